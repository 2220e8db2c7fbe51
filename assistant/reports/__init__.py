"""Rendering shared by the reports (usage and evaluation): self-contained HTML."""
