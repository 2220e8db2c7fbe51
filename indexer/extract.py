"""Extraction: one file's bytes → its definitions, identifier names, imports and chunks.

Runs the language's compiled queries (`indexer.languages.queries_for`) over the tree-sitter tree.
Python-level work is per definition or per import, never per syntax node, except for collecting
identifier names, which tree-sitter's query cursor hands over already filtered.
Bad input never raises: tree-sitter recovers from syntax errors, invalid UTF-8 is decoded with
replacement characters in text fields while byte offsets stay exact.
"""

from __future__ import annotations

import bisect
import inspect
import re
from dataclasses import dataclass, field

import tree_sitter

from indexer import kinds
from indexer.chunks import Outline, build_chunks
from indexer.languages import LanguageSpec, parser_for, queries_for
from indexer.model import Definition, FileExtract, Import, Reference, Span

# Capture suffixes in tags.scm that are not SymbolKind names.
_KIND_ALIASES = {"type": kinds.CLASS, "macro": kinds.FUNCTION, "variable": kinds.VARIABLE}

# A function directly inside one of these is a method.
_TYPE_KINDS = frozenset({kinds.CLASS, kinds.STRUCT, kinds.INTERFACE, kinds.ENUM})

# Definitions that become retrieval chunks of their own; the rest (fields, constants) stay in the
# chunk of whatever contains them.
_CHUNK_KINDS = frozenset(
    {
        kinds.CLASS, kinds.STRUCT, kinds.INTERFACE, kinds.ENUM, kinds.MODULE, kinds.NAMESPACE,
        kinds.FUNCTION, kinds.METHOD, kinds.CONSTRUCTOR,
    }
)

# Queries capture the innermost node that names a symbol (a C function_declarator, a JS
# variable_declarator); the definition's range is the declaration around it, when that
# declaration declares only this one thing.
_LIFT_TO = {
    "function_declarator": frozenset(
        {"function_definition", "declaration", "field_declaration", "pointer_declarator", "reference_declarator"}
    ),
    "pointer_declarator": frozenset({"function_definition", "declaration", "field_declaration"}),
    "reference_declarator": frozenset({"function_definition", "declaration", "field_declaration"}),
    "variable_declarator": frozenset({"lexical_declaration", "variable_declaration"}),
    "variable_declaration": frozenset({"field_declaration", "event_field_declaration"}),
    "type_spec": frozenset({"type_declaration"}),
    "const_spec": frozenset({"const_declaration"}),
    "var_spec": frozenset({"var_declaration"}),
    "assignment": frozenset({"expression_statement"}),
    "const_element": frozenset({"const_declaration"}),
}

# A struct/enum/class specifier without a body is a use or a forward declaration, not a definition.
_NEEDS_BODY = frozenset({"struct_specifier", "union_specifier", "enum_specifier", "class_specifier"})

_MAX_SIGNATURE_CHARS = 400
_MAX_SIGNATURE_LINES = 8

_COMMENT_MARKERS = re.compile(r"^\s*(?:/\*+!?|\*+/|\*(?!/)|//[/!]?|#+!?|=begin|=end)\s?")
_COMMENT_CLOSER = re.compile(r"\s*\*+/\s*$")
_XML_DOC_TAG = re.compile(r"</?(?:summary|remarks|returns|para)>")
_STRING_PREFIX = re.compile(r"^[rRuUbBfF]*")
_IMPORT_QUOTES = "\"'`<> \t"


class _Text:
    """The file's bytes with code-point columns and replacement-decoded slices."""

    __slots__ = ("data", "ascii")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ascii = data.isascii()

    def column(self, byte_offset: int, byte_column: int) -> int:
        if self.ascii or byte_column == 0:
            return byte_column
        return len(self.data[byte_offset - byte_column : byte_offset].decode("utf-8", "replace"))

    def span(self, node: tree_sitter.Node) -> Span:
        start, end = node.start_point, node.end_point
        if self.ascii:
            return Span(start[0], start[1], end[0], end[1])
        return Span(
            start[0], self.column(node.start_byte, start[1]), end[0], self.column(node.end_byte, end[1])
        )

    def slice(self, start_byte: int, end_byte: int) -> str:
        return self.data[start_byte:end_byte].decode("utf-8", "replace")

    def of(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")


@dataclass(slots=True)
class _Candidate:
    """A definition (or a scope such as a Rust impl block) found by the tags query."""

    rank: int  # lower is more specific; decides when several patterns tag one name
    kind: int
    name_node: tree_sitter.Node
    decl: tree_sitter.Node  # the declaration: signature and body come from here
    receiver: str = ""  # Go receiver type, C++ `Class::` scope: a qualname prefix
    scope_only: bool = False  # names a container but is not itself a symbol
    outer: tree_sitter.Node | None = None  # decl plus wrappers (decorators, export): range and doc
    qualname: str = ""
    outline: Outline | None = None


@dataclass(slots=True)
class _Scan:
    """What one walk of the tree found."""

    candidates: dict[int, _Candidate] = field(default_factory=dict)  # by name node start byte
    scopes: list[_Candidate] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    identifiers: list[tree_sitter.Node] = field(default_factory=list)


def extract_file(path: str, source: bytes, spec: LanguageSpec) -> FileExtract:
    """Everything the index keeps about one file. Never raises on bad syntax or bad encoding."""
    tree = parser_for(spec).parse(source)
    root = tree.root_node
    text = _Text(source)
    queries = queries_for(spec)
    scan = _scan(path, queries.tags, root, text)

    definitions, outline = _definitions(path, scan, text, spec)
    lines = source.decode("utf-8", "replace").split("\n")
    spelled = {source[node.start_byte : node.end_byte] for node in scan.identifiers}  # cheaper than node.text
    return FileExtract(
        language=spec.name,
        definitions=definitions,
        reference_names={name.decode("utf-8", "replace") for name in spelled},
        imports=scan.imports,
        chunks=build_chunks(path, spec.name, lines, root, outline),
        syntax_errors=_count_errors(root),
    )


def identifier_occurrences(path: str, source: bytes, spec: LanguageSpec, name: str) -> list[Reference]:
    """Every identifier node spelled `name`, in file order; definition name sites are marked."""
    wanted = name.encode("utf-8")
    tree = parser_for(spec).parse(source)
    text = _Text(source)
    scan = _scan(path, queries_for(spec).tags, tree.root_node, text)
    definition_sites = {start for start, candidate in scan.candidates.items() if _usable(candidate)}
    occurrences = [
        node
        for node in scan.identifiers
        if node.end_byte - node.start_byte == len(wanted) and node.text == wanted
    ]
    occurrences.sort(key=lambda node: node.start_byte)
    return [
        Reference(name=name, path=path, range=text.span(node), is_definition=node.start_byte in definition_sites)
        for node in occurrences
    ]


# When several patterns tag the same name, the more specific kind wins (our queries refine
# tags.scm's generic "class"/"type"/"function").
_SPECIFICITY = {
    suffix: rank
    for rank, suffix in enumerate(
        (
            "constructor", "enum_member", "field", "property", "struct", "enum", "interface", "namespace",
            "method", "function", "class", "module", "constant", "variable", "type", "macro",
        )
    )
}


def _scan(path: str, query: tree_sitter.Query, root: tree_sitter.Node, text: _Text) -> _Scan:
    """One query walk; captures come back per capture name in document order, and each match's
    parts (a definition's name, an import's module) are found again by byte containment."""
    captures = tree_sitter.QueryCursor(query).captures(root)
    found = _Scan(identifiers=captures.get("identifier", []))
    names = _Positions(captures.get("name"))
    receivers = _Positions((captures.get("receiver") or []) + (captures.get("local.scope") or []))
    tagged: list[tuple[int, int, tree_sitter.Node]] = []
    for capture, nodes in captures.items():
        # Ours (@symbol.kind) outrank tags.scm's (@definition.kind); among those, specific kinds win.
        if capture.startswith("symbol."):
            suffix, rank = capture[7:], 0
        elif capture.startswith("definition."):
            suffix, rank = capture[11:], 100
        else:
            continue
        kind = _kind_for(suffix)
        if kind is None:
            continue
        rank += _SPECIFICITY.get(suffix, len(_SPECIFICITY))
        tagged += [(rank, kind, decl) for decl in nodes]
    # A definition's name is the first captured name inside it that no smaller definition owns:
    # so `typedef struct { int x; } point_t;` is named point_t, not x.
    tagged.sort(key=lambda item: item[2].end_byte - item[2].start_byte)
    owners: dict[int, int] = {}
    for rank, kind, decl in tagged:
        name_node = names.claim_within(decl, owners)
        if name_node is None:
            continue
        existing = found.candidates.get(name_node.start_byte)
        if existing is not None and existing.rank <= rank:
            continue
        receiver_node = receivers.first_within(decl.start_byte, name_node.start_byte)
        receiver = text.of(receiver_node) if receiver_node is not None else ""
        found.candidates[name_node.start_byte] = _Candidate(rank, kind, name_node, decl, receiver)

    scope_names = _Positions(captures.get("scope.name"))
    for scope in captures.get("scope", ()):
        name_node = scope_names.first_within(scope.start_byte, scope.end_byte)
        if name_node is not None:
            found.scopes.append(_Candidate(0, kinds.CLASS, name_node, scope, scope_only=True))

    statements = captures.get("import")
    if statements:
        found.imports = _imports(path, statements, captures, text)
    return found


class _Positions:
    """Captured nodes in document order, searchable by byte range."""

    __slots__ = ("nodes", "starts")

    def __init__(self, nodes: list[tree_sitter.Node] | None) -> None:
        self.nodes = sorted(nodes or (), key=lambda node: node.start_byte)
        self.starts = [node.start_byte for node in self.nodes]

    def first_within(self, start: int, end: int) -> tree_sitter.Node | None:
        index = bisect.bisect_left(self.starts, start)
        if index < len(self.nodes) and self.nodes[index].end_byte <= end:
            return self.nodes[index]
        return None

    def claim_within(self, node: tree_sitter.Node, owners: dict[int, int]) -> tree_sitter.Node | None:
        """The first name inside `node` not owned by a smaller definition; every unowned name inside
        becomes `node`'s, so larger definitions around it skip them."""
        found = None
        index = bisect.bisect_left(self.starts, node.start_byte)
        while index < len(self.nodes) and self.starts[index] < node.end_byte:
            candidate = self.nodes[index]
            if candidate.end_byte <= node.end_byte:
                owner = owners.setdefault(self.starts[index], node.id)
                if found is None and owner == node.id:
                    found = candidate
            index += 1
        return found

    def all_within(self, start: int, end: int) -> list[tree_sitter.Node]:
        index = bisect.bisect_left(self.starts, start)
        within = []
        while index < len(self.nodes) and self.nodes[index].start_byte < end:
            if self.nodes[index].end_byte <= end:
                within.append(self.nodes[index])
            index += 1
        return within


def _kind_for(suffix: str) -> int | None:
    kind = _KIND_ALIASES.get(suffix)
    if kind is None:
        kind = getattr(kinds, suffix.upper(), None)
    return kind if isinstance(kind, int) else None


def _usable(candidate: _Candidate) -> bool:
    parent = candidate.name_node.parent
    if parent is not None and parent.type in _NEEDS_BODY and parent.child_by_field_name("body") is None:
        return False
    return True


def _lift(node: tree_sitter.Node) -> tree_sitter.Node:
    while True:
        parents = _LIFT_TO.get(node.type)
        parent = node.parent
        if parents is None or parent is None or parent.type not in parents:
            return node
        if sum(1 for sibling in parent.named_children if sibling.type == node.type) != 1:
            return node
        node = parent


def _definitions(
    path: str, scan: _Scan, text: _Text, spec: LanguageSpec
) -> tuple[list[Definition], list[Outline]]:
    candidates = [candidate for candidate in scan.candidates.values() if _usable(candidate)]
    for candidate in candidates:
        decl = _lift(candidate.decl)
        outer = decl
        # Node.parent is a search down from the root in tree-sitter: asked once per step, and not at
        # all for languages without wrappers.
        parent = outer.parent if spec.wrapper_types else None
        while parent is not None and parent.type in spec.wrapper_types:
            outer, parent = parent, parent.parent
        candidate.decl, candidate.outer = decl, outer
    for scope in scan.scopes:
        scope.outer = scope.decl
    ordered = sorted(
        candidates + scan.scopes, key=lambda c: (c.outer.start_byte, -c.outer.end_byte, c.scope_only is False)
    )

    definitions: list[Definition] = []
    top_outline: list[Outline] = []
    stack: list[_Candidate] = []  # enclosing containers, innermost last
    for candidate in ordered:
        start = candidate.outer.start_byte
        while stack and stack[-1].outer.end_byte <= start:
            stack.pop()
        container = stack[-1] if stack else None
        name = text.of(candidate.name_node)
        prefix = container.qualname + "." if container is not None else ""
        if candidate.receiver:
            prefix += _receiver_name(candidate.receiver) + "."
        candidate.qualname = prefix + name

        doc_row = candidate.outer.start_point[0]
        chunked = candidate.scope_only  # an impl block is a chunk like a class
        if not candidate.scope_only:
            kind = _refine_kind(candidate, name, container, spec)
            doc, doc_row = _doc(candidate.decl, candidate.outer, text, spec)
            definitions.append(
                Definition(
                    name=name,
                    qualname=candidate.qualname,
                    kind=kind,
                    path=path,
                    range=text.span(candidate.outer),
                    name_range=text.span(candidate.name_node),
                    signature=_signature(candidate.decl, text, spec),
                    doc=doc,
                    language=spec.name,
                )
            )
            chunked = kind in _CHUNK_KINDS
        if chunked:
            # The chunk starts at the doc comment, so the comment is retrieved with its code.
            end_row, end_column = candidate.outer.end_point
            if end_column == 0 and end_row > doc_row:
                end_row -= 1  # a node ending with its newline (a #define) ends on the line before
            candidate.outline = Outline(doc_row, end_row, candidate.qualname, candidate.outer)
            parent_outline = next((c.outline for c in reversed(stack) if c.outline is not None), None)
            (parent_outline.children if parent_outline is not None else top_outline).append(candidate.outline)
        stack.append(candidate)
    return definitions, top_outline


def _receiver_name(receiver: str) -> str:
    # "Session", "*Session", "ns::Session<T>" → the dotted container chain without generics.
    receiver = re.sub(r"<.*>", "", receiver).strip("*&() \t")
    return receiver.replace("::", ".").replace("\\", ".")


def _refine_kind(candidate: _Candidate, name: str, container: _Candidate | None, spec: LanguageSpec) -> int:
    kind = candidate.kind
    in_type = candidate.receiver != "" or (
        container is not None and (container.scope_only or container.kind in _TYPE_KINDS)
    )
    if kind == kinds.FUNCTION and in_type:
        kind = kinds.METHOD
    if kind == kinds.METHOD:
        owner = _receiver_name(candidate.receiver) if candidate.receiver else (
            container.qualname if container is not None else ""
        )
        if name in spec.constructor_names or (owner and name == owner.rsplit(".", 1)[-1]):
            kind = kinds.CONSTRUCTOR
    if kind == kinds.CONSTANT and spec.constant_by_case and not name.isupper():
        kind = kinds.VARIABLE
    return kind


def _body_of(node: tree_sitter.Node, depth: int = 0) -> tuple[tree_sitter.Node | None, int]:
    """The body of a declaration, looked for up to three levels down, and the depth it was found at."""
    body = node.child_by_field_name("body")
    if body is not None or depth >= 3:
        return body, depth
    for field_name in ("value", "declarator"):
        child = node.child_by_field_name(field_name)
        if child is not None:
            return _body_of(child, depth + 1)
    if node.named_child_count == 1:
        return _body_of(node.named_children[0], depth + 1)
    return None, depth


def _signature(decl: tree_sitter.Node, text: _Text, spec: LanguageSpec) -> str:
    """The declaration without its body: `def request(self, url: str) -> Response:`."""
    body, depth = _body_of(decl)
    if body is not None:
        end = body.start_byte
        if depth == 0:  # a field of decl itself
            # End after the last token before the body, so a trailing comment stays out.
            previous = body.prev_sibling
            while previous is not None and previous.type in spec.comment_types:
                previous = previous.prev_sibling
            if previous is not None:
                end = previous.end_byte
        signature = text.slice(decl.start_byte, end).rstrip()
    else:
        # Only the head matters: a class-level table can be thousands of lines long.
        signature = _balanced_head(text.slice(decl.start_byte, min(decl.end_byte, decl.start_byte + 2048)))
    if len(signature) > _MAX_SIGNATURE_CHARS:
        signature = signature[:_MAX_SIGNATURE_CHARS].rstrip() + " …"
    return signature


def _balanced_head(declaration: str) -> str:
    """The first line of a bodiless declaration, continued while brackets are open."""
    lines = declaration.split("\n", _MAX_SIGNATURE_LINES)
    depth = 0
    for index, line in enumerate(lines[:_MAX_SIGNATURE_LINES]):
        depth += line.count("(") + line.count("[") - line.count(")") - line.count("]")
        if depth <= 0:
            break
    head = "\n".join(lines[: index + 1]).rstrip()
    return head[:-1].rstrip() if head.endswith(("{", ";")) else head


def _doc(decl: tree_sitter.Node, outer: tree_sitter.Node, text: _Text, spec: LanguageSpec) -> tuple[str, int]:
    """The cleaned doc and the row where the definition's documentation starts."""
    comment, first_row = _leading_comment(outer, text, spec)
    if spec.python_docstrings:
        docstring = _python_docstring(decl, text)
        if docstring:
            return docstring, first_row
    return comment, first_row


def _python_docstring(decl: tree_sitter.Node, text: _Text) -> str:
    body = decl.child_by_field_name("body")
    if body is None or decl.type not in ("function_definition", "class_definition"):
        return ""
    for statement in body.named_children:
        if statement.type == "comment":
            continue
        if statement.type != "expression_statement" or statement.named_child_count != 1:
            return ""
        string = statement.named_children[0]
        if string.type != "string":
            return ""
        literal = _STRING_PREFIX.sub("", text.of(string))
        quote = literal[:3] if literal[:3] in ('"""', "'''") else literal[:1]
        if literal.endswith(quote) and len(literal) >= 2 * len(quote):
            literal = literal[len(quote) : -len(quote)]
        return inspect.cleandoc(literal)
    return ""


def _leading_comment(node: tree_sitter.Node, text: _Text, spec: LanguageSpec) -> tuple[str, int]:
    """The comment block right above a definition (no blank line between), markers removed."""
    blocks: list[str] = []
    expected_row = node.start_point[0]
    # The first statement of a Ruby body or a C# block may have its comment one level up.
    # (prev_sibling and parent each search from an ancestor in tree-sitter: asked once per node.)
    sibling = node.prev_sibling
    while sibling is None:
        parent = node.parent
        if parent is None or parent.start_byte != node.start_byte:
            break
        node, sibling = parent, parent.prev_sibling
    while sibling is not None and sibling.type in spec.doc_skip_types:
        expected_row = sibling.start_point[0]
        sibling = sibling.prev_sibling
    while sibling is not None and sibling.type in spec.comment_types and sibling.end_point[0] >= expected_row - 1:
        before = sibling.prev_sibling
        if before is not None and before.end_point[0] == sibling.start_point[0] and before.type not in spec.comment_types:
            break  # a trailing comment on the previous line of code, not documentation
        blocks.append(text.of(sibling))
        expected_row = sibling.start_point[0]
        sibling = before
    if not blocks:
        return "", node.start_point[0]
    return _clean_comment("\n".join(reversed(blocks))), expected_row


def _clean_comment(comment: str) -> str:
    if "<summary>" in comment:
        comment = _XML_DOC_TAG.sub("", comment)  # C# XML documentation
    lines = [_COMMENT_CLOSER.sub("", _COMMENT_MARKERS.sub("", line, count=1)).rstrip() for line in comment.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return inspect.cleandoc("\n".join(lines)) if lines else ""


def _imports(
    path: str, statements: list[tree_sitter.Node], captures: dict[str, list[tree_sitter.Node]], text: _Text
) -> list[Import]:
    modules = _Positions(captures.get("import.module"))
    paths = _Positions(captures.get("import.path"))
    imported = _Positions(captures.get("import.name"))
    trees = _Positions(captures.get("import.tree"))
    imports: list[Import] = []
    seen: set[int] = set()
    for statement in sorted(statements, key=lambda node: node.start_byte):
        if statement.start_byte in seen:
            continue  # several patterns matched one statement
        seen.add(statement.start_byte)
        line = statement.start_point[0]
        start, end = statement.start_byte, statement.end_byte
        names = _unique(text.of(node).strip() for node in imported.all_within(start, end))
        written_modules = [text.of(node).strip(_IMPORT_QUOTES) for node in modules.all_within(start, end)]
        # `import a, b` lists modules and no names; `from a import b, c` one module and its names.
        for module in _unique(written_modules):
            imports.append(Import(path, module, names if len(written_modules) == 1 else (), line))
        for node in trees.all_within(start, end):
            imports += [Import(path, module, names, line) for module, names in _use_tree(text.of(node))]
        for node in paths.all_within(start, end):
            # `java.util.List`, `App\\Models\\User`: the last segment is the imported name.
            module, last = _split_last(text.of(node).strip())
            imports.append(Import(path, module, (last,), line))
    return imports


def _use_tree(tree: str, prefix: str = "") -> list[tuple[str, tuple[str, ...]]]:
    """Rust `use a::{b, c::d as e, f::*}` → [("a", ("b",)), ("a::c", ("d",)), ("a::f", ("*",))]."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))  # aliases name nothing imported
    brace = tree.find("{")
    if brace < 0:
        full = f"{prefix}::{tree}" if prefix else tree
        module, _, name = full.rpartition("::")
        return [(module, (name,))] if module else [(name, ())]
    head = tree[:brace].rstrip(":")
    group = f"{prefix}::{head}" if prefix and head else (head or prefix)
    items, depth, current = [], 0, ""
    for char in tree[brace + 1 : tree.rfind("}")]:
        depth += (char == "{") - (char == "}")
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    names = [item for item in items if item and "::" not in item and "{" not in item]
    nested = [pair for item in items if "::" in item or "{" in item for pair in _use_tree(item, group)]
    return ([(group, tuple(names))] if names else []) + nested


def _unique(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def _split_last(written: str) -> tuple[str, str]:
    match = re.search(r"(?:\.|::|\\)(?!.*(?:\.|::|\\))", written)
    if match is None:
        return written, written
    return written[: match.start()], written[match.end() :]


def _count_errors(root: tree_sitter.Node) -> int:
    """ERROR and MISSING nodes. A query for them would walk the whole tree; this
    descends only where `has_error` says an error lies below, which is a few paths through a large
    file. An ERROR node can itself read has_error False (a zero-cost recovery), so error and
    missing children are visited too."""
    if not root.has_error:
        return 0
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        stack.extend(child for child in node.children if child.has_error or child.is_error or child.is_missing)
    return count
