"""Usage: the local log of what kura suggested and what became of it, and the effect report."""
