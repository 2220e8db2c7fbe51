"""The one table of languages: file suffix → language → tree-sitter grammar → queries.

Each `LanguageSpec` names the grammar wheel that parses the language, the wheels whose shipped
`queries/tags.scm` provide definition patterns, our own `queries/<name>.scm` that fills in what
those are thin on (kinds, imports, scopes), and the few node-type facts extraction needs.
Grammars and queries are loaded lazily, once per process; parsers once per thread.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.resources
import posixpath
import threading
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

_QUERY_DIR = Path(__file__).with_name("queries")


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    name: str  # "python", "tsx", "c_sharp", ...
    suffixes: tuple[str, ...]  # lower-case, with the dot
    grammar_module: str  # the wheel's import name, e.g. "tree_sitter_typescript"
    grammar_function: str = "language"  # e.g. "language_tsx"
    # Wheels whose queries/tags.scm we use, in order (TypeScript's builds on JavaScript's).
    tags_from: tuple[str, ...] = ()
    # Node types whose text is an identifier: the postings for "find references".
    identifier_types: tuple[str, ...] = ("identifier",)
    comment_types: tuple[str, ...] = ("comment",)
    # Our query files in queries/, by stem; () means just the language's own name.
    query_files: tuple[str, ...] = ()
    # Nodes that wrap a definition and belong to its range and doc position (decorators, export, template).
    wrapper_types: tuple[str, ...] = ()
    # Siblings that may sit between a doc comment and its definition (Rust attributes).
    doc_skip_types: tuple[str, ...] = ()
    # Method names that construct an instance, reported as SymbolKind.CONSTRUCTOR.
    constructor_names: tuple[str, ...] = ()
    python_docstrings: bool = False
    # Python convention: a module-level assignment is a constant only when its name is UPPER_CASE.
    constant_by_case: bool = False


def _spec(name: str, suffixes: str, module: str, **kwargs) -> LanguageSpec:
    return LanguageSpec(name=name, suffixes=tuple(suffixes.split()), grammar_module=module, **kwargs)


_JS_IDENTIFIERS = (
    "identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "shorthand_property_identifier_pattern",
    "private_property_identifier",
)
_TS_IDENTIFIERS = _JS_IDENTIFIERS + ("type_identifier",)

LANGUAGES: tuple[LanguageSpec, ...] = (
    _spec(
        "python", ".py .pyi", "tree_sitter_python",
        tags_from=("tree_sitter_python",),
        wrapper_types=("decorated_definition",),
        constructor_names=("__init__",),
        python_docstrings=True,
        constant_by_case=True,
    ),
    _spec(
        "javascript", ".js .mjs .cjs .jsx", "tree_sitter_javascript",
        tags_from=("tree_sitter_javascript",),
        query_files=("ecmascript", "javascript"),
        identifier_types=_JS_IDENTIFIERS,
        wrapper_types=("export_statement",),
        constructor_names=("constructor",),
    ),
    _spec(
        "typescript", ".ts .mts .cts", "tree_sitter_typescript", grammar_function="language_typescript",
        tags_from=("tree_sitter_javascript", "tree_sitter_typescript"),
        query_files=("ecmascript", "typescript"),
        identifier_types=_TS_IDENTIFIERS,
        wrapper_types=("export_statement",),
        constructor_names=("constructor",),
    ),
    _spec(
        "tsx", ".tsx", "tree_sitter_typescript", grammar_function="language_tsx",
        tags_from=("tree_sitter_javascript", "tree_sitter_typescript"),
        query_files=("ecmascript", "typescript"),
        identifier_types=_TS_IDENTIFIERS,
        wrapper_types=("export_statement",),
        constructor_names=("constructor",),
    ),
    _spec(
        "go", ".go", "tree_sitter_go",
        tags_from=("tree_sitter_go",),
        identifier_types=("identifier", "field_identifier", "type_identifier", "package_identifier"),
    ),
    _spec(
        "java", ".java", "tree_sitter_java",
        tags_from=("tree_sitter_java",),
        identifier_types=("identifier", "type_identifier"),
        comment_types=("line_comment", "block_comment"),
    ),
    _spec(
        "rust", ".rs", "tree_sitter_rust",
        tags_from=("tree_sitter_rust",),
        identifier_types=("identifier", "field_identifier", "type_identifier"),
        comment_types=("line_comment", "block_comment"),
        doc_skip_types=("attribute_item",),
        constructor_names=(),
    ),
    # .h is C by default: C++ headers usually say so with .hpp/.hh, and C++-only syntax in a .h
    # still yields most symbols through tree-sitter's error recovery.
    _spec(
        "c", ".c .h", "tree_sitter_c",
        tags_from=("tree_sitter_c",),
        identifier_types=("identifier", "field_identifier", "type_identifier"),
    ),
    _spec(
        "cpp", ".cc .cpp .cxx .c++ .hpp .hh .hxx .h++ .ipp", "tree_sitter_cpp",
        tags_from=("tree_sitter_cpp",),
        identifier_types=("identifier", "field_identifier", "type_identifier", "namespace_identifier"),
        wrapper_types=("template_declaration",),
    ),
    _spec(
        "c_sharp", ".cs", "tree_sitter_c_sharp",
        tags_from=("tree_sitter_c_sharp",),
    ),
    _spec(
        "ruby", ".rb .rake .gemspec", "tree_sitter_ruby",
        tags_from=("tree_sitter_ruby",),
        identifier_types=("identifier", "constant"),
        constructor_names=("initialize",),
    ),
    _spec(
        "php", ".php", "tree_sitter_php", grammar_function="language_php",
        tags_from=("tree_sitter_php",),
        identifier_types=("name",),
        constructor_names=("__construct",),
    ),
)

_BY_SUFFIX: dict[str, LanguageSpec] = {suffix: spec for spec in LANGUAGES for suffix in spec.suffixes}
_BY_NAME: dict[str, LanguageSpec] = {spec.name: spec for spec in LANGUAGES}


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of a file by its suffix (case-insensitive), or None when we do not index it."""
    suffix = posixpath.splitext(path.replace("\\", "/"))[1].lower()
    return _BY_SUFFIX.get(suffix)


def language_named(name: str) -> LanguageSpec | None:
    return _BY_NAME.get(name)


@functools.lru_cache(maxsize=None)
def grammar_for(spec: LanguageSpec) -> tree_sitter.Language:
    module = importlib.import_module(spec.grammar_module)
    return tree_sitter.Language(getattr(module, spec.grammar_function)())


_thread_parsers = threading.local()


def parser_for(spec: LanguageSpec) -> tree_sitter.Parser:
    """A parser for the language, one per thread (tree-sitter parsers are not thread-safe)."""
    parsers = getattr(_thread_parsers, "by_name", None)
    if parsers is None:
        parsers = _thread_parsers.by_name = {}
    parser = parsers.get(spec.name)
    if parser is None:
        parser = parsers[spec.name] = tree_sitter.Parser(grammar_for(spec))
    return parser


def shipped_tags(package: str) -> str:
    """The `queries/tags.scm` a grammar wheel ships, or "" when it ships none.

    Most wheels put it inside the package; tree-sitter-c-sharp installs it beside the package
    (`tree_sitter_c-sharp/queries/`), so fall back to the distribution's file list.
    """
    try:
        resource = importlib.resources.files(package) / "queries" / "tags.scm"
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except ModuleNotFoundError:
        return ""
    try:
        distribution = importlib.metadata.distribution(package.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return ""
    for file in distribution.files or ():
        if str(file).endswith("queries/tags.scm"):
            located = Path(str(file.locate()))
            if located.is_file():
                return located.read_text(encoding="utf-8")
    return ""


def own_queries(spec: LanguageSpec) -> str:
    texts = []
    for stem in spec.query_files or (spec.name,):
        path = _QUERY_DIR / f"{stem}.scm"
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


@dataclass(frozen=True, slots=True)
class CompiledQueries:
    """The queries extraction runs, compiled once per process."""

    # tags.scm's definition patterns, our queries/<name>.scm, and every identifier as @identifier:
    # one query, so one walk of the tree collects everything (walking dominates the cost).
    tags: tree_sitter.Query


@functools.lru_cache(maxsize=None)
def queries_for(spec: LanguageSpec) -> CompiledQueries:
    grammar = grammar_for(spec)
    shipped = "\n".join(shipped_tags(package) for package in spec.tags_from)
    alternatives = " ".join(f"({node_type})" for node_type in spec.identifier_types)
    source = f"{shipped}\n{own_queries(spec)}\n[{alternatives}] @identifier\n"
    encoded = source.encode("utf-8")
    shipped_bytes = len(shipped.encode("utf-8"))
    tags = tree_sitter.Query(grammar, source)
    for index in range(tags.pattern_count):
        start = tags.start_byte_for_pattern(index)
        if start >= shipped_bytes:
            break
        # tags.scm also tags references; we find references from identifier nodes instead,
        # so drop those patterns rather than pay for matching them.
        if b"@definition." not in encoded[start : tags.end_byte_for_pattern(index)]:
            tags.disable_pattern(index)
    for unused in ("doc", "ignore"):
        tags.disable_capture(unused)
    return CompiledQueries(tags)
