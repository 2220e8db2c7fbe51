"""Context recall, measured like RepoBench: does the completion prompt kura builds carry the definition
of the cross-file function the next line calls? Used by `kura eval context` and
benchmarks/context_eval.py.

Sites are lines inside function bodies (library code, not tests) whose first call is to a function
defined once in the repository, in another file; each is blanked (indentation kept), the prompt is
built through the same path `kura complete` uses (`ContextBuilder` with the completion budget, then
`build_prompt`), and the callee's signature line is looked for in it. Sites split into "used above"
(the callee is called in the 40 lines above) and "not used above" (its name does not appear there).

Ground truth is kept honest: a name in a comment or a string is neither a call nor a use; `Type::f(` /
`Type.f(` must be that type's `f`; another file's `private` method is never the callee, nor is the
repository's namesake of a name statically imported from another class, nor a TypeScript declaration
(.d.ts, .d.cts), nor a Rust function reached through a module path that names another crate (`multer::f(`,
`iter::empty(`). Left out: bare calls of a Python method name, C library names a repository shims, Rust
std and JDK method names (but on a type named: `ObjectUtils.isArray(`) and Rust `mod tests` in source
files, Go calls into the standard library (`http.HandlerFunc(`) or of a method named like a struct
(`r.Context()`), methods of built-in types. A C function declared in a header and defined in one source
file is one function, found through either line. Tokens are counted as characters / 3.5 (no model is
loaded).

With a model backend, each site is also completed (greedy, up to the line's end) once with the prompt
and once with the same window and no repository snippets: exact match, edit similarity and model time.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from assistant.completion.prompt import build_prompt
from assistant.completion.shape import decide_shape, language_name_for_path
from assistant.context.builder import ContextBudget, ContextBuilder, Document
from assistant.settings import Settings
from indexer import kinds
from indexer.index import Index, _is_test_path

USED = "used above"
NEW = "not used above"
LOOKBACK = 40
_FUNCTION_KINDS = {kinds.FUNCTION, kinds.METHOD, kinds.CONSTRUCTOR}
_CALLEE_KINDS = _FUNCTION_KINDS | {kinds.CLASS, kinds.STRUCT}  # `new Foo(` calls a class


def _generated(path: str) -> bool:
    """Bundles and build output: copies of the sources, not code anyone completes."""
    return any(part in {"dist", "build", "vendor", "node_modules"} for part in path.split("/")[:-1]) or \
        path.endswith((".min.js", ".cjs", ".bundle.js"))

_CALL = re.compile(r"(?<![\w$])([A-Za-z_]\w*)\s*\(")
_NOT_CALLS = frozenset(
    "if for while switch return sizeof catch function func def elif and or not in with typeof new".split()
)
# Methods of built-in types: `", ".join(...)` is not the repository's `join`, and the index cannot tell.
_BUILTIN_METHODS = frozenset(
    """join get items keys values append extend pop update split strip format encode decode read write close
    startswith endswith replace lower upper info debug warning error push map filter forEach slice call apply
    bind then catch toString indexOf send set has add delete test exec match
    iter into_iter recv parse unwrap clone to_string as_ref len length size isEmpty equals hashCode getClass
    getType getName next charAt getKey getValue containsKey""".split()
)
# Methods of Rust's standard types and traits (`opt.is_none()`, `f.write_str(`, `req.headers_mut()`): a
# call is std's unless proven otherwise, however the repository names one of its own.
_RUST_STD_METHODS = frozenset(
    """is_none is_some is_ok is_err take as_mut as_str as_bytes as_slice write_str write_fmt headers headers_mut
    extensions extensions_mut kind field finish insert remove contains push pop is_empty and_then ok err
    unwrap_or unwrap_or_else expect borrow borrow_mut lock poll poll_ready call into from fmt eq cmp hash
    to_owned to_vec any all find position strip_prefix strip_suffix""".split()
)
# Methods of the JDK's types (Object, Class, the boxed numbers, StringBuilder, Iterator, BitSet):
# `c.isArray()`, `sb.setCharAt(`, `wait()` are the JDK's however the repository names one of its own
# (`ObjectUtils.isArray(`, named by its type, still counts).
_JAVA_STD_METHODS = frozenset(
    """wait notify notifyAll clone finalize isInstance isArray isPrimitive isInterface isEnum isAssignableFrom
    isAnnotation getComponentType getSimpleName getSuperclass getModifiers getDeclaredFields getDeclaredMethods
    getDeclaredConstructors getMethods getFields cast newInstance booleanValue intValue longValue doubleValue
    floatValue shortValue byteValue charValue setLength setCharAt ensureCapacity deleteCharAt insert reverse
    capacity trimToSize regionMatches forEachRemaining hasNext iterator stream nextSetBit nextClearBit
    cardinality""".split()
)
# C library functions a repository wraps or shims under the same name (`#define connect win32_connect`):
# a call is the C library's unless proven otherwise.
_LIBC = frozenset(
    """read write close open send recv connect accept bind listen socket poll select freeaddrinfo getaddrinfo
    strerror strerror_r malloc calloc realloc free memcpy memmove memset strlen strcmp strncmp printf fprintf
    snprintf vsnprintf setsockopt getsockopt fcntl ioctl""".split()
)
_C_FAMILY = {"c", "cpp"}
# A member only its own type may call (Java, C#, TypeScript, PHP): another file's call is a namesake's.
_PRIVATE = re.compile(r"\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*private\b")
_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx")


def count_tokens(text: str) -> int:
    """A model-free stand-in for a code tokenizer (about 3.5 characters a token)."""
    return (len(text) * 2 + 6) // 7


@dataclass
class Site:
    repo: str
    language: str
    path: str
    line: int  # 0-based, the blanked line
    callee: str
    definition_path: str
    signature_line: str  # what must appear in the prompt
    kind: str  # USED or NEW
    alternatives: tuple[str, ...] = ()  # C: the header's declaration does as well as the definition

    def found_in(self, prompt: str) -> bool:
        return any(line in prompt for line in (self.signature_line, *self.alternatives))


def _rust_module_names(module: str, path: str) -> bool:
    """Whether `module::f(` can name a function of `path`: the module is the file, a directory on its
    path, or its crate (`grep_cli` for crates/cli)."""
    if module in {"crate", "self", "super"}:
        return True
    parts = [part.replace("-", "_") for part in path.split("/")]
    parts[-1] = parts[-1].split(".")[0]
    return any(module == part or module.endswith("_" + part) or module.startswith(part + "_") for part in parts)


def _signature_line(definition) -> str:
    """The signature's line that names the definition (`@Override` above it names nothing)."""
    lines = [line.strip() for line in definition.signature.strip().split("\n")]
    named = [line for line in lines if re.search(rf"(?<![\w$]){re.escape(definition.name)}(?![\w$])", line)]
    return (named or lines)[0]


def _comments_and_strings(path: str, source: str) -> dict[int, list[tuple[int, int]]]:
    """Per line, the byte column spans covered by comments and string literals (tree-sitter)."""
    from indexer.languages import language_for_path, parser_for

    spec = language_for_path(path)
    if spec is None:
        return {}
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    stack = [parser_for(spec).parse(source.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        if "comment" in node.type or node.type in {"string", "string_literal", "raw_string_literal",
                                                   "template_string", "interpreted_string_literal"}:
            (r0, c0), (r1, c1) = node.start_point, node.end_point
            for row in range(r0, r1 + 1):
                spans[row].append((c0 if row == r0 else 0, c1 if row == r1 else 1 << 30))
            continue
        stack.extend(node.children)
    return spans


def _blank(text: str, spans) -> str:
    """The line with its comments and strings blanked: a name mentioned there is not used."""
    if not spans:
        return text
    data = bytearray(text.encode("utf-8"))
    for start, end in spans:
        data[start:end] = b" " * len(data[start:end])
    return data.decode("utf-8", errors="replace")


def _inside(spans: dict[int, list[tuple[int, int]]], line: int, column: int) -> bool:
    return any(start <= column < end for start, end in spans.get(line, ()))


def sample_sites(index: Index, repo: str, per_kind: int, seed: int = 0) -> list[Site]:
    """Completion sites in `repo`, at most `per_kind` of each kind, chosen at random but repeatably."""
    found: dict[str, list[Site]] = defaultdict(list)
    unique: dict[str, object] = {}
    declared: dict[str, tuple[str, ...]] = {}  # C functions: the signature lines of all declarations

    def only_definition(name: str):
        if name not in unique:
            # A TypeScript declaration file declares what is defined elsewhere (`on` of an EventEmitter).
            defs = [d for d in index.definitions(name) if d.kind in _CALLEE_KINDS and not _generated(d.path)
                    and not d.path.endswith((".d.ts", ".d.cts", ".d.mts"))]
            if len(defs) > 1 and all(language_name_for_path(d.path) in _C_FAMILY for d in defs):
                # A C function is declared in its header and defined in one source file: one function.
                sources = [d for d in defs if not d.path.endswith(_HEADER_SUFFIXES)]
                if len(sources) <= 1 and all(d.kind in _FUNCTION_KINDS for d in defs):
                    declared[name] = tuple(_signature_line(d) for d in defs)
                    defs = sources or defs[:1]
            # One definition, outside tests and examples: `Object.create` is not examples/'s `create`.
            one = defs[0] if len(defs) == 1 and not _is_test_path(defs[0].path) else None
            if one is not None and "." in one.qualname:
                # A function nested in a function is local to it: a call by that name is a namesake.
                owner = one.qualname.rsplit(".", 1)[0]
                if any(d.qualname == owner and d.kind in _FUNCTION_KINDS for d in index.file_symbols(one.path)):
                    one = None
            unique[name] = one
        return unique[name]

    for path in index.indexed_paths():
        if _is_test_path(path) or _generated(path) or language_name_for_path(path) not in _LANGUAGES:
            continue
        try:
            source = (index.root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = source.split("\n")
        prose = _comments_and_strings(path, source)
        language = language_name_for_path(path)
        # Go packages of the standard library ("net/http": no domain), by the name a call uses.
        stdlib = {imp.module.strip('"').rsplit("/", 1)[-1] for imp in index.imports(path)
                  if language == "go" and "." not in imp.module.strip('"').split("/", 1)[0]}
        # Java: a name imported from a class (`import static ...ImmutableMap.toImmutableMap`) is that class's.
        imported_from = {name: imp.module.rsplit(".", 1)[-1] for imp in index.imports(path)
                         if language == "java" for name in imp.names}
        for fn in index.file_symbols(path):
            if fn.kind not in _FUNCTION_KINDS or fn.qualname.split(".", 1)[0] == "tests":
                continue  # Rust's `mod tests` in a source file is test code too
            body_first = fn.range.start_line + max(1, fn.signature.count("\n") + 1)
            for line in range(body_first, min(fn.range.end_line, len(lines))):
                text = lines[line]
                for match in _CALL.finditer(text):
                    name = match.group(1)
                    if name in _NOT_CALLS:
                        continue
                    if _inside(prose, line, len(text[: match.start()].encode("utf-8"))):
                        break  # `iteritems()` in a comment or a string is no call
                    before = text[: match.start()].rstrip()
                    if before.endswith(".") and (name in _BUILTIN_METHODS or before[:-1].rstrip()[-1:] in "\"')]"):
                        break  # a method of a literal or a built-in type: ground truth unknown
                    if language in _C_FAMILY and name in _LIBC and not before.endswith((".", "->")):
                        break
                    if language == "rust" and name in _RUST_STD_METHODS and before.endswith("."):
                        break
                    if language == "java" and name in _JAVA_STD_METHODS and not re.search(r"[A-Z]\w*\s*\.$", before):
                        break
                    definition = only_definition(name)
                    if definition is None or definition.path == path:
                        break  # the first call decides: the line is about it
                    if language == "go" and before.endswith("."):
                        receiver = re.search(r"([A-Za-z_]\w*)\s*\.$", before)
                        if definition.kind not in _FUNCTION_KINDS or (receiver and receiver.group(1) in stdlib):
                            break  # `r.Context()` is no struct; `http.HandlerFunc(` is net/http's
                    owner = re.search(r"([A-Z]\w*)\s*(?:::|\.)$", before)
                    if owner and not definition.qualname.endswith(f"{owner.group(1)}.{name}"):
                        break  # `Cli::parse(`, `Command::Get(`: another type's namesake, not this definition
                    module = re.search(r"(?<![\w:])([a-z_]\w*)\s*::$", before)
                    if language == "rust" and module and not _rust_module_names(module.group(1), definition.path):
                        break  # `multer::parse_boundary(`, `iter::empty(`: another crate's or module's function
                    if language == "python" and definition.kind == kinds.METHOD and not before.endswith("."):
                        break  # `next(...)` is the builtin, not some class's `next` method
                    if "." in definition.qualname and _PRIVATE.match(definition.signature):
                        break  # `messager.printMessage(`: another file's private method is not callable here
                    source_class = imported_from.get(name)
                    if source_class and not definition.qualname.endswith(f"{source_class}.{name}"):
                        break  # statically imported from a class outside the repository (or another one)
                    first = max(fn.range.start_line, line - LOOKBACK)
                    above = "\n".join(_blank(lines[row], prose.get(row, ())) for row in range(first, line))
                    if re.search(rf"(?<![\w$]){re.escape(name)}\s*\(", above):
                        kind = USED
                    elif re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", above):
                        break  # mentioned but not called: neither kind
                    else:
                        kind = NEW
                    found[kind].append(
                        Site(repo, language, path, line, name, definition.path, _signature_line(definition), kind,
                             declared.get(name, ()))
                    )
                    break
    rng = random.Random(seed)
    out = []
    for kind in (USED, NEW):
        sites = found[kind]
        rng.shuffle(sites)
        out += sites[:per_kind]
    return out


_LANGUAGES = {"python", "go", "javascript", "typescript", "c", "cpp", "java", "rust"}


def prompt_for(site: Site, index: Index, budget: ContextBudget, template, bare: bool = False):
    """The prompt `kura complete` would send with the site's line blanked at its indentation, the
    share of it up to the cursor that is unchanged after the line's first characters are typed
    (what a KV cache reuses), the completion's shape, and (`bare`) the same prompt without
    repository snippets."""
    text = (index.root / site.path).read_text(encoding="utf-8")
    lines = text.split("\n")
    original = lines[site.line]
    indent = original[: len(original) - len(original.lstrip())]
    lines[site.line] = indent
    blanked = "\n".join(lines)
    offset = sum(len(line) + 1 for line in lines[: site.line]) + len(indent)
    builder = ContextBuilder(index, count_tokens, budget)
    context = builder.build(Document(site.path, blanked, offset))
    shape = decide_shape(blanked, offset, site.path)
    prompt = build_prompt(context, shape, template, repo=index.root.name).text
    # Type the line's first characters: how much of the prompt up to the cursor stays (KV reuse).
    typed = original.strip()[:8]
    later = builder.build(Document(site.path, blanked[:offset] + typed + blanked[offset:], offset + len(typed)))
    again = build_prompt(later, shape, template, repo=index.root.name).text
    head = prompt.split(template.suffix)[0] if template is not None else prompt
    reused = min(1.0, len(os.path.commonprefix([prompt, again])) / max(1, len(head)))
    without = build_prompt(dataclasses.replace(context, snippets=()), shape, template, repo=index.root.name).text if bare else ""
    return prompt, reused, shape, without


def complete(backend, prompt: str, shape) -> tuple[str, float]:
    """The model's completion of the blanked line (greedy, stopping at the line's end) and its time."""
    from assistant.completion.stopping import StopAtShapeEnd
    from assistant.models.base import GenerationRequest

    result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=48, temperature=0.0,
                                                should_stop=StopAtShapeEnd(shape)))
    return result.text.split("\n", 1)[0], result.model_ms


def score_line(expected: str, got: str) -> tuple[bool, float]:
    """(exact match, edit similarity) of a completed line against the original, ignoring indentation."""
    expected, got = expected.strip(), got.strip()
    return expected == got, difflib.SequenceMatcher(None, expected, got).ratio()


def evaluate(name: str, root: Path, per_kind: int, template, context_tokens: int | None = None,
             backend=None, index_path: Path | None = None) -> dict:
    """Sample the sites of one repository, build each prompt, and (with a backend) complete it; the
    index is `index_path` (default: where kura keeps this repository's index)."""
    index = Index.open(root, index_path)
    try:
        index.update()
        budget = ContextBudget(max_context_tokens=context_tokens or Settings().completion.context_tokens)
        results = []
        for site in sample_sites(index, name, per_kind):
            prompt, reused, shape, without = prompt_for(site, index, budget, template, bare=backend is not None)
            hit = site.found_in(prompt)
            row = {**site.__dict__, "hit": hit, "prompt_chars": len(prompt), "reused": reused}
            if backend is not None:
                expected = (index.root / site.path).read_text(encoding="utf-8").split("\n")[site.line]
                for label, text in (("with", prompt), ("without", without)):
                    got, ms = complete(backend, text, shape)
                    exact, similarity = score_line(expected, got)
                    row.update({f"{label}_exact": exact, f"{label}_similarity": similarity, f"{label}_ms": ms})
            results.append(row)
        return {"repo": name, "sites": results}
    finally:
        index.close()


def summarize_model(reports: list[dict]) -> list[dict]:
    """Exact match / edit similarity / model time with and without repository context, per language."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for report in reports:
        for s in report["sites"]:
            if "with_exact" in s:
                groups[s["language"]].append(s)
    rows = []
    for language, sites in sorted(groups.items()):
        n = len(sites)
        row = {"language": language, "sites": n}
        for label in ("with", "without"):
            times = sorted(s[f"{label}_ms"] for s in sites)
            row.update({f"{label}_exact": sum(s[f"{label}_exact"] for s in sites) / n,
                        f"{label}_similarity": sum(s[f"{label}_similarity"] for s in sites) / n,
                        f"{label}_ms_median": times[n // 2]})
        rows.append(row)
    return rows


def summarize(reports: list[dict]) -> list[dict]:
    rows = []
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for report in reports:
        for s in report["sites"]:
            groups[(report["repo"], s["language"], s["kind"])].append(s)
    for (repo, language, kind), sites in sorted(groups.items()):
        hits = sum(s["hit"] for s in sites)
        chars = sorted(s["prompt_chars"] for s in sites)
        rows.append({
            "repo": repo, "language": language, "kind": kind, "sites": len(sites), "hits": hits,
            "recall": hits / len(sites), "prompt_chars_median": chars[len(chars) // 2],
            "prompt_chars_mean": round(sum(chars) / len(chars)),
            "reused": sum(s["reused"] for s in sites) / len(sites),
        })
    return rows

