"""kura's repository indexer: tree-sitter extraction into a SQLite store, kept fresh incrementally.

This package never imports the assistant or the language server (layers point one way).
"""
