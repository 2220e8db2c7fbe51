"""Completion latency as a developer feels it: the real server over stdio, a scripted typing session.

    python benchmarks/completion_bench.py [REPO] [--file PATH] [--keystrokes 60] [--model GGUF] [--first 8]

A line inside a function of a real file is removed and typed back one character at a time; after
each keystroke the client sends `textDocument/inlineCompletion` and waits for the answer (a closed
loop at most one keystroke per 100 ms). Prints p50/p95 latency, the share of prompt tokens reused
from the KV cache, the share of keystrokes inside a visible suggestion answered without the model,
server overhead (end-to-end minus model time), the server's peak RSS, and the model's own time for
the same prompts called directly (llama-cpp-python, no server), as a ratio, and a context-free peer
typing the same keystrokes: a llama.vim-style client (up to 256 lines of prefix, no repository
context, 32 tokens, stop at the newline) against llama.cpp's server (`llama_cpp.server`, which
reuses the longest cached prefix) with the same model and thread count (`--no-peer` skips it).

`--first N` measures the first suggestion instead: a new line is opened at the top of the bodies of N
functions of the file, one after another, each asked once with the product's default cap
(completion.firstSuggestionTimeoutMs); an empty answer is followed, as the editors do, by a
re-request when the server sends `kura/suggestionReady`. Prints the time from the first request
to a shown suggestion (p50/p95), how many came only after the cap, and how many never came (15 s).
`--dwell S` lets the cursor rest S seconds at each site first (`kura/cursorMoved`: the server warms
the model there), as when a developer reads the function before typing. `--then K` types on at once
after each first suggestion, the first K characters of the body's next statement, and prints those
keystrokes' latency and how much repository context their prompts carried.

`--accepts N` accepts a one-line suggestion at the tops of N function bodies, reads it for --read
seconds, presses Enter and times the next line's suggestion (and how many came from the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def plain(value):
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def choose_line(path: Path, min_len: int) -> int:
    """A line in the second half of the file, indented (inside a function), long enough to type."""
    lines = path.read_text().split("\n")
    candidates = [i for i, l in enumerate(lines) if l.startswith(("        ", "\t\t")) and len(l.strip()) >= min_len
                  and not l.strip().startswith(("#", '"', "'", "//", "/*", "*"))]
    if not candidates:
        raise SystemExit(f"no indented line of {min_len}+ characters in {path}")
    later = [i for i in candidates if i > len(lines) // 2] or candidates
    return later[len(later) // 2]


async def start_server(client: LanguageClient, args, repo: Path, workdir: Path, completion: dict) -> None:
    """Start the real server over stdio with these completion settings; return once the index and
    the model are ready."""
    await client.start_io(sys.executable, "-m", "lsp_server", "--log-level", "warning")
    options = {"index": {"path": str(workdir / "index.sqlite"), "watch": False}, "completion": completion}
    if args.model:
        options["model"] = {"path": str(Path(args.model).resolve())}
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=repo.as_uri(), initialization_options=options))
    client.initialized(types.InitializedParams())
    while True:
        status = plain(await client.protocol.send_request_async("kura/status", {}))
        if status["index"]["state"] != "indexing" and status["model"]["state"] in ("loaded", "error"):
            break
        await asyncio.sleep(0.2)
    if status["model"]["state"] == "error":
        raise SystemExit(f"model failed: {status['model']['error']}")


async def typing_session(args, repo: Path, file: Path, line_no: int, workdir: Path):
    text = file.read_text()
    lines = text.split("\n")
    target = lines[line_no]
    indent = target[: len(target) - len(target.lstrip())]
    to_type = target.strip()[: args.keystrokes]
    lines[line_no] = indent
    start_text = "\n".join(lines)

    client = LanguageClient("kura-bench", "1")
    await start_server(client, args, repo, workdir, {"firstSuggestionTimeoutMs": 0, "debounceMs": args.debounce_ms})

    uri = file.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id(file), version=1, text=start_text)))
    latencies, model_ms, overhead, states = [], [], [], []
    inside_visible = answered_from_cache_inside = 0
    visible = ""
    col = len(indent)
    version = 1
    # The developer has been at this line a moment: the cursor rested there (the editors send
    # kura/cursorMoved) and the server read the whole prompt. The cold first suggestion is --first's.
    client.protocol.notify("kura/cursorMoved", {"uri": uri, "position": {"line": line_no, "character": col}})
    for _ in range(1200):
        if plain(await client.protocol.send_request_async("kura/status", {}))["model"]["completion"]["warmups"]:
            break
        await asyncio.sleep(0.05)
    # Warm-up request (the first suggestion there; not timed).
    await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line_no, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
    document = start_text
    for ch in to_type:
        keystroke_at = time.perf_counter()
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line_no, character=col), end=types.Position(line=line_no, character=col)),
                text=ch)]))
        offset = sum(len(l) + 1 for l in document.split("\n")[:line_no]) + col
        document = document[:offset] + ch + document[offset:]
        col += 1
        was_inside = bool(visible) and visible.startswith(ch)
        sent = time.perf_counter()
        result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line_no, character=col),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
        elapsed = (time.perf_counter() - sent) * 1000
        last = plain(await client.protocol.send_request_async("kura/status", {}))["model"]["last"]
        latencies.append(elapsed)
        if args.verbose:
            print(f"  {ch!r:5} {elapsed:7.1f} ms  model {last.get('model_ms') or 0:7.1f} ms  prompt {last.get('prompt_tokens', '-')}"
                  f"  reused {last.get('reused_tokens', '-')}  generated {last.get('generated_tokens', '-')}  first token {last.get('first_token_ms', '-')}"
                  f"{'  (cache)' if last.get('from_cache') else ''}")
        model_ms.append(last.get("model_ms") or 0.0)
        overhead.append(elapsed - (last.get("model_ms") or 0.0))
        if was_inside:
            inside_visible += 1
            answered_from_cache_inside += 1 if last.get("from_cache") else 0
        if not last.get("from_cache"):
            states.append((document, offset + 1))
        visible = result.items[0].insert_text if result and result.items else ""
        await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - keystroke_at)))
    final = plain(await client.protocol.send_request_async("kura/status", {}))
    pid = client._server.pid if getattr(client, "_server", None) else None
    rss_mb = peak_rss_mb(pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"latencies": latencies, "model_ms": model_ms, "overhead": overhead, "stats": final["model"]["completion"],
            "inside": inside_visible, "inside_cached": answered_from_cache_inside, "rss_mb": rss_mb,
            "keystrokes": len(to_type), "model": final["model"], "states": states}


def language_id(path: Path) -> str:
    """The LSP language id an editor sends for the file (kura's language names are VS Code's ids)."""
    from indexer.languages import language_for_path

    spec = language_for_path(str(path))
    return spec.name if spec else "plaintext"


def function_tops(path: Path, count: int) -> list[tuple[int, str]]:
    """(line index, indentation) of the first body line of up to `count` functions spread over the file:
    the functions and methods kura's indexer finds there (any indexed language), whose header ends
    with `:` or `{` and whose body's first line is indented deeper than the header."""
    from indexer import kinds
    from indexer.extract import extract_file
    from indexer.languages import language_for_path

    spec = language_for_path(str(path))
    if spec is None:
        raise SystemExit(f"{path}: not a language kura indexes")
    lines = path.read_text().split("\n")
    tops = []
    for d in extract_file(str(path), path.read_bytes(), spec).definitions:
        if d.kind not in (kinds.FUNCTION, kinds.METHOD):
            continue
        header = next((i for i in range(d.range.start_line, min(d.range.end_line, len(lines) - 1))
                       if lines[i].rstrip().endswith((":", "{"))), None)
        if header is None:
            continue
        body, head = lines[header + 1], lines[header]
        indent = body[: len(body) - len(body.lstrip())]
        if body.strip() and len(indent) > len(head) - len(head.lstrip()):
            tops.append((header + 1, indent))
    tops.sort()
    step = max(1, len(tops) // max(1, count))
    return tops[::step][:count]


async def first_suggestion_session(args, repo: Path, file: Path, workdir: Path) -> dict:
    client = LanguageClient("kura-bench", "1")
    ready: list[str] = []

    @client.feature("kura/suggestionReady")
    def on_ready(params):
        ready.append(getattr(params, "uri", None) or dict(params).get("uri"))

    await start_server(client, args, repo, workdir, {"debounceMs": args.debounce_ms})  # the default first-suggestion cap
    uri = file.as_uri()
    original = file.read_text()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id(file), version=1, text=original)))

    async def ask(line: int, col: int):
        return await client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))

    waits, late, lost, version = [], 0, 0, 1
    typed_on, context_on, empty_on = [], [], 0
    for line, indent in function_tops(file, args.first):
        lines = original.split("\n")
        lines.insert(line, indent)  # the user opens a new line at the top of the function body
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="\n".join(lines))]))
        ready.clear()
        if args.dwell:  # the cursor rests there a while before the user asks (the editors send it)
            client.protocol.notify("kura/cursorMoved", {"uri": uri, "position": {"line": line, "character": len(indent)}})
            await asyncio.sleep(args.dwell)
        started = time.perf_counter()
        result = await ask(line, len(indent))
        if not (result and result.items):
            deadline = started + 15
            while not ready and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
            result = await ask(line, len(indent)) if ready else None
            late += 1
        if result and result.items:
            waits.append((time.perf_counter() - started) * 1000)
        else:
            lost += 1
        if args.verbose:
            stats = plain(await client.protocol.send_request_async("kura/status", {}))["model"]
            print(f"  line {line + 1}: {'shown' if result and result.items else 'none'} after "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms; announced: {bool(ready)}; "
                  f"last: {stats['last']}", file=sys.stderr)
        # --then K: the developer types on at once, the first K characters of the body's next statement.
        col = len(indent)
        for ch in lines[line + 1].strip()[: args.then]:
            version += 1
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=line, character=col),
                                      end=types.Position(line=line, character=col)), text=ch)]))
            col += 1
            keystroke_at = time.perf_counter()
            answer = await ask(line, col)
            typed_on.append((time.perf_counter() - keystroke_at) * 1000)
            empty_on += not (answer and answer.items)
            last = plain(await client.protocol.send_request_async("kura/status", {}))["model"]["last"]
            if not last.get("from_cache"):
                context_on.append(last.get("context_tokens") or 0)
            await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - keystroke_at)))
    completion = plain(await client.protocol.send_request_async("kura/status", {}))["model"]["completion"]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"waits": waits, "late": late, "lost": lost, "sites": len(waits) + lost,
            "cut_in_time": completion.get("cut_in_time", 0), "typed_on": typed_on, "context_on": context_on,
            "empty_on": empty_on}


async def accept_session(args, repo: Path, file: Path, workdir: Path) -> dict:
    """--accepts N: at the tops of N function bodies, wait for a suggestion, accept it (Tab: the text
    goes in and the item's command runs), read it for --read seconds, press Enter (the new line
    indented as the accepted one, one level deeper after `:` or `{`) and time the next suggestion."""
    client = LanguageClient("kura-bench", "1")
    ready: list[str] = []

    @client.feature("kura/suggestionReady")
    def on_ready(params):
        ready.append(getattr(params, "uri", None) or dict(params).get("uri"))

    await start_server(client, args, repo, workdir, {"debounceMs": args.debounce_ms})
    uri, text, version = file.as_uri(), file.read_text(), 1
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id(file), version=1, text=text)))

    def insert(line: int, col: int, new: str) -> None:
        nonlocal version, text
        version += 1
        lines = text.split("\n")
        lines[line] = lines[line][:col] + new + lines[line][col:]
        text = "\n".join(lines)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=col), end=types.Position(line=line, character=col)),
                text=new)]))

    async def shown(line: int, col: int):
        """The suggestion at (line, col) as an editor gets it: asked, and asked again when announced."""
        ready.clear()
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
        result = await client.text_document_inline_completion_async(params)
        if not (result and result.items):
            deadline = time.perf_counter() + 15
            while not ready and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
            result = await client.text_document_inline_completion_async(params) if ready else None
        return result.items[0] if result and result.items else None

    waits, cached, lost, accepted = [], 0, 0, 0
    for top, indent in reversed(function_tops(file, args.accepts)):  # bottom up: earlier sites keep their lines
        insert(top - 1, len(text.split("\n")[top - 1]), "\n" + indent)
        item = await shown(top, len(indent))
        if item is None or "\n" in item.insert_text:
            continue  # nothing to accept, or a block (Enter after it is not the next line)
        insert(top, len(indent), item.insert_text)
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=item.command.command, arguments=item.command.arguments))
        accepted += 1
        await asyncio.sleep(args.read)  # the developer reads what was accepted
        line = text.split("\n")[top]
        deeper = indent + ("\t" if indent.startswith("\t") else "    ") if line.rstrip().endswith((":", "{")) else indent
        before = plain(await client.protocol.send_request_async("kura/status", {}))["model"]["completion"]["cache_answers"]
        started = time.perf_counter()
        insert(top, len(line), "\n" + deeper)  # Enter, auto-indented
        item = await shown(top + 1, len(deeper))
        if args.verbose:
            stats = plain(await client.protocol.send_request_async("kura/status", {}))["model"]
            print(f"  line {top + 2}: {'shown' if item else 'none'} after {(time.perf_counter() - started) * 1000:.0f} ms; "
                  f"announced: {bool(ready)}; last: {stats['last']}", file=sys.stderr)
        if item is None:
            lost += 1
            continue
        waits.append((time.perf_counter() - started) * 1000)
        after = plain(await client.protocol.send_request_async("kura/status", {}))["model"]["completion"]["cache_answers"]
        cached += after > before
    completion = plain(await client.protocol.send_request_async("kura/status", {}))["model"]["completion"]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"waits": waits, "cached": cached, "lost": lost, "accepted": accepted,
            "speculated": completion.get("speculated", 0)}


def peer_typing_latencies(args, file: Path, line_no: int, keystrokes: int) -> list[float]:
    """The same keystrokes from a prefix-only client against llama.cpp's server (the peer to beat)."""
    import httpx

    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from fixtures.model_server import llama_cpp_server

    from assistant.models.embedded import embedded_model_path
    from assistant.models.registry import ModelConfig

    model = Path(args.model).resolve() if args.model else embedded_model_path()
    lines = file.read_text().split("\n")
    target = lines[line_no]
    indent = target[: len(target) - len(target.lstrip())]
    to_type = target.strip()[:keystrokes]
    head = "\n".join(lines[max(0, line_no - 256):line_no]) + "\n" + indent
    latencies = []
    with llama_cpp_server(model, n_ctx=4096, threads=ModelConfig().resolved_threads) as url, httpx.Client(timeout=600) as http:
        def ask(prompt: str) -> float:
            started = time.perf_counter()
            http.post(f"{url}/v1/completions", json={"prompt": prompt, "max_tokens": 32, "temperature": 0.0,
                                                     "stop": ["\n"]}).raise_for_status()
            return (time.perf_counter() - started) * 1000
        ask(head)  # warm-up, as for kura
        for i in range(1, len(to_type) + 1):
            keystroke_at = time.perf_counter()
            latencies.append(ask(head + to_type[:i]))
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - keystroke_at)))
    return latencies


def peak_rss_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def direct_model_times(args, repo: Path, rel: str, states, workdir: Path) -> list[float]:
    """The same prompts (rebuilt by the same code, in-process) timed on llama-cpp-python directly."""
    from assistant.completion.prompt import build_prompt
    from assistant.completion.shape import decide_shape
    from assistant.context.builder import ContextBudget, ContextBuilder, Document
    from assistant.models.embedded import embedded_model_path
    from assistant.models.registry import ModelConfig
    from indexer.index import Index
    from llama_cpp import Llama

    path = Path(args.model).resolve() if args.model else embedded_model_path()
    llm = Llama(str(path), n_ctx=4096, n_threads=ModelConfig().resolved_threads, verbose=False)
    index = Index.open(repo, index_path=workdir / "index.sqlite")
    builder = ContextBuilder(index, lambda t: len(llm.tokenize(t.encode(), add_bos=False, special=True)), ContextBudget())
    times = []
    for document, offset in states:
        shape = decide_shape(document, offset, rel)
        prompt = build_prompt(builder.build(Document(rel, document, offset)), shape, None)
        started = time.perf_counter()
        llm.create_completion(prompt.text, max_tokens=64, temperature=0.0, stop=list(prompt.stop) or None)
        times.append((time.perf_counter() - started) * 1000)
    index.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", nargs="?", default=str(REPO_ROOT))
    parser.add_argument("--file", help="file to type in (default: a Python file of the repository with a long indented line)")
    parser.add_argument("--keystrokes", type=int, default=60)
    parser.add_argument("--model", help="a GGUF (default: the embedded Gemma 3 270M)")
    parser.add_argument("--debounce-ms", type=int, default=50)
    parser.add_argument("--no-direct", action="store_true", help="skip the direct-model comparison")
    parser.add_argument("--no-peer", action="store_true", help="skip the prefix-only llama.cpp-server peer")
    parser.add_argument("--first", type=int, default=0, help="measure the first suggestion at the tops of N functions")
    parser.add_argument("--verbose", action="store_true", help="print each site's outcome")
    parser.add_argument("--accepts", type=int, default=0,
                        help="accept a suggestion at the tops of N functions and time the next line's after Enter")
    parser.add_argument("--read", type=float, default=1.0, help="with --accepts: seconds the developer reads before Enter")
    parser.add_argument("--then", type=int, default=0,
                        help="with --first: type K characters on at each site at once, timing each keystroke")
    parser.add_argument("--dwell", type=float, default=0.0,
                        help="with --first: seconds the cursor rests at each site (kura/cursorMoved) before the request")
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    file = Path(args.file).resolve() if args.file else default_file(repo)
    rel = file.relative_to(repo).as_posix()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        # Type into a scratch copy of the repository so the real one is never touched.
        copy = workdir / "repo"
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(repo), str(copy)], check=True)
        if args.accepts:
            a = asyncio.run(accept_session(args, copy, copy / rel, workdir))
            w = a["waits"]
            print(f"next line after an accept, at {a['accepted']} accepted suggestions of {rel} ({args.read:g} s read first): "
                  f"p50 {percentile(w, 50):.0f} ms, p95 {percentile(w, 95):.0f} ms after Enter; {a['cached']} answered from "
                  f"the cache, {a['lost']} never came within 15 s; {a['speculated']} guessed while reading")
            return 0
        if args.first:
            f = asyncio.run(first_suggestion_session(args, copy, copy / rel, workdir))
            w = f["waits"]
            print(f"first suggestion at the tops of {f['sites']} functions of {rel} (cursor resting {args.dwell:g} s first): p50 {percentile(w, 50):.0f} ms, "
                  f"p95 {percentile(w, 95):.0f} ms; {f['late']} came after the cap (announced by kura/suggestionReady), "
                  f"{f['lost']} never came within 15 s (target p50 <= 1500 ms, none lost); "
                  f"{f['cut_in_time']} prompts cut to what the model reads in time")
            if args.then:
                t, c = f["typed_on"], f["context_on"]
                print(f"typing on at once ({len(t)} keystrokes): p50 {percentile(t, 50):.0f} ms, p95 {percentile(t, 95):.0f} ms, "
                      f"{f['empty_on']} answered empty; repository context in the prompt of its model calls: "
                      f"mean {statistics.mean(c) if c else 0:.0f} tokens over {len(c)} calls")
            return 0
        line_no = choose_line(copy / rel, min(args.keystrokes, 50))
        r = asyncio.run(typing_session(args, copy, copy / rel, line_no, workdir))
        direct = [] if args.no_direct else direct_model_times(args, copy, rel, r["states"], workdir)
        peer = [] if args.no_peer else peer_typing_latencies(args, copy / rel, line_no, args.keystrokes)

    s = r["stats"]
    lat, over = r["latencies"], r["overhead"]
    print(f"file: {rel}:{line_no + 1}, {r['keystrokes']} keystrokes, model: {r['model'].get('description')}")
    print(f"latency (client-measured)     p50 {percentile(lat, 50):7.1f} ms   p95 {percentile(lat, 95):7.1f} ms   (targets 250 / 800)")
    if peer:
        print(f"prefix-only llama.cpp server  p50 {percentile(peer, 50):7.1f} ms   p95 {percentile(peer, 95):7.1f} ms   "
              f"(same keystrokes, no context; kura/peer p50 {percentile(lat, 50) / percentile(peer, 50):.2f}, "
              f"p95 {percentile(lat, 95) / percentile(peer, 95):.2f})")
    model_only = [m for m in r["model_ms"] if m]
    print(f"model time per model call      p50 {percentile(model_only, 50):7.1f} ms   p95 {percentile(model_only, 95):7.1f} ms")
    print(f"server overhead (e2e - model)  p50 {percentile(over, 50):7.1f} ms   p95 {percentile(over, 95):7.1f} ms   "
          f"(target p95 15; {s.get('debounced', 0)} requests came in a burst and waited out the {args.debounce_ms} ms debounce)")
    # The same calls' end-to-end time over the model's own time: unlike the direct comparison below,
    # which runs later, it does not move with the machine's load between the two.
    ratios = [(o + m) / m for o, m in zip(over, r["model_ms"]) if m]
    print(f"end-to-end / model time, same calls p50 {percentile(ratios, 50):.3f}   p95 {percentile(ratios, 95):.3f}   (target 1.05)")
    reused = s["reused_tokens"] / s["prompt_tokens"] if s["prompt_tokens"] else 0.0
    print(f"prompt tokens reused from KV   {reused:6.1%}  ({s['reused_tokens']}/{s['prompt_tokens']}, {s['model_calls']} model calls; target 90%)")
    avg_prompt = s["prompt_tokens"] / s["model_calls"] if s["model_calls"] else 0
    print(f"average prompt                 {avg_prompt:.0f} tokens")
    inside = r["inside"]
    share = r["inside_cached"] / inside if inside else float("nan")
    print(f"keystrokes inside a visible suggestion answered without the model: {share:.1%} ({r['inside_cached']}/{inside}; target 50%)")
    print(f"all keystrokes answered without the model: {s['cache_answers']}/{s['requests']}")
    print(f"block suggestions grown after their answer (then announced): {s.get('grown_blocks', 0)}")
    print(f"prompts cut to what the model reads in time: {s.get('cut_in_time', 0)} of {s.get('model_calls', 0)} model calls")
    print(f"server peak RSS                {r['rss_mb']:.0f} MB (target 600)" if r["rss_mb"] else "server peak RSS: unknown")
    if direct:
        print(f"direct llama-cpp-python, same prompts: p50 {percentile(direct, 50):.1f} ms  p95 {percentile(direct, 95):.1f} ms; "
              f"server end-to-end / direct p50 = {percentile([l for l, m in zip(lat, r['model_ms']) if m], 50) / percentile(direct, 50):.2f}")
    return 0


def default_file(repo: Path) -> Path:
    for candidate in ("assistant/completion/service.py", "indexer/index.py"):
        if (repo / candidate).exists():
            return repo / candidate
    files = sorted(repo.rglob("*.py"), key=lambda p: -p.stat().st_size)
    if not files:
        raise SystemExit(f"no Python files in {repo}")
    return files[0]


if __name__ == "__main__":
    sys.exit(main())
