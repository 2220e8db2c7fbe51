"""Context: what of the repository goes into a prompt (definitions, imports, similar code)."""
