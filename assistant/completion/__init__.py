"""Inline completion logic: the shape at the cursor, when to stop, trimming, the typed-through cache."""
