"""The indexer's data model: what extraction produces and what the store returns.

Positions are 0-based; columns count Unicode code points (Python `str` indices) within the line.
The language server converts to the editor's position encoding at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains_line(self, line: int) -> bool:
        return self.start_line <= line <= self.end_line


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    qualname: str  # container chain joined with ".", e.g. "Session.request"
    kind: int  # an LSP SymbolKind value (indexer.kinds), kept as int so the indexer needs no LSP types
    path: str  # repository-relative, POSIX separators
    range: Span  # the whole definition
    name_range: Span  # just the name
    signature: str  # declaration line(s), without the body
    doc: str  # docstring or leading comment, cleaned of comment markers; "" when none
    language: str = ""


@dataclass(frozen=True, slots=True)
class Import:
    path: str
    module: str  # what is imported from, as written: "os.path", "./util", "github.com/x/y", "stdio.h"
    names: tuple[str, ...] = ()  # imported names where the syntax lists them
    line: int = 0


@dataclass(frozen=True, slots=True)
class Chunk:
    path: str
    start_line: int  # inclusive
    end_line: int  # inclusive
    text: str
    symbol: str = ""  # qualname of the definition the chunk belongs to, "" for module-level code
    language: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """One occurrence of an identifier; recomputed on demand from the file, never stored."""

    name: str
    path: str
    range: Span
    is_definition: bool = False


@dataclass(slots=True)
class FileExtract:
    """Everything the index keeps about one file."""

    language: str
    definitions: list[Definition] = field(default_factory=list)
    reference_names: set[str] = field(default_factory=set)  # identifiers used in the file (postings)
    imports: list[Import] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    syntax_errors: int = 0  # error/missing nodes tree-sitter recovered from
