"""Speculative decoding by prompt lookup, against plain decoding: is it worth turning on?

    python benchmarks/speculative_bench.py LANG=FILE[,FILE...] ... [--sites 3] [--tokens 32] [--model GGUF]

llama-cpp-python ships a prompt-lookup draft model (`LlamaPromptLookupDecoding`): the tokens that
followed the last n-gram's earlier occurrence in the prompt are proposed as drafts and verified in
one batch. Code completions copy text from their context, so it might decode faster. For each
language, lines of real files (the 60 lines above them as the prompt, the line's indentation typed)
are completed greedily for `--tokens` tokens by the same model twice, plain and with the draft
model, alternately (so that the machine's load falls on both alike). Prints the prefill time and the
decode time per token (p50) of each, and the share of drafted tokens accepted.

The draft path needs logits for every position (`logits_all`: a buffer of n_ctx x vocabulary floats,
1 GiB per 1 024 positions of the embedded Gemma's 262 144-token vocabulary), so n_ctx is kept at
2 048 here. (Without `logits_all=True` passed as well, llama-cpp-python 0.3.x allocates that buffer
for n_batch rows only and fails once a prompt passes 512 tokens.)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_CTX = 2048
PROMPT_LINES = 60


def sites(files: list[Path], per_file: int, seed: int = 1) -> list[str]:
    """Prompts ending at the indentation of a random non-trivial line of each file."""
    rnd = random.Random(seed)
    prompts = []
    for path in files:
        lines = path.read_text(errors="replace").split("\n")
        candidates = [i for i in range(PROMPT_LINES, len(lines)) if len(lines[i].strip()) > 20]
        for i in rnd.sample(candidates, min(per_file, len(candidates))):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            prompts.append("\n".join(lines[i - PROMPT_LINES : i]) + "\n" + indent)
    return prompts


def timed(llama, prompt: str, tokens: int) -> tuple[float, float, int]:
    """(prefill ms, decode ms per token after the first, tokens generated), from a cold cache."""
    ids = llama.tokenize(prompt.encode(), add_bos=True)
    llama.reset()
    started, first, count = time.perf_counter(), None, 0
    for _ in llama.generate(ids, temp=0.0, top_k=1, reset=True):
        first = first or time.perf_counter()
        count += 1
        if count >= tokens:
            break
    end = time.perf_counter()
    return (first - started) * 1000, (end - first) * 1000 / max(1, count - 1), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("languages", nargs="+", help="LANG=FILE[,FILE...] of real code (not kura's)")
    parser.add_argument("--sites", type=int, default=3, help="lines per file")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--model", help="a GGUF (default: the embedded model)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import llama_cpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from assistant.models.embedded import embedded_model_path

    class CountingDrafts(LlamaPromptLookupDecoding):
        calls = drafted = 0

        def __call__(self, input_ids, /, **kwargs):
            drafts = super().__call__(input_ids, **kwargs)
            CountingDrafts.calls += 1
            CountingDrafts.drafted += len(drafts)
            return drafts

    path = args.model or str(embedded_model_path())
    common = {"model_path": path, "n_ctx": N_CTX, "n_threads": args.threads, "n_threads_batch": args.threads, "verbose": False}
    plain = llama_cpp.Llama(**common)
    speculative = llama_cpp.Llama(**common, logits_all=True, draft_model=CountingDrafts(num_pred_tokens=10))
    print(f"model {Path(path).name}, {args.threads} thread(s), {args.tokens} tokens per site")
    for spec in args.languages:
        language, _, names = spec.partition("=")
        prompts = sites([Path(n).expanduser() for n in names.split(",")], args.sites)
        timed(speculative, prompts[0], 2)  # the first call pays for the buffers
        CountingDrafts.calls = CountingDrafts.drafted = 0
        a, b, generated = [], [], 0
        for prompt in prompts:
            a.append(timed(plain, prompt, args.tokens))
            b.append(timed(speculative, prompt, args.tokens))
            generated += b[-1][2]
        # Each draft call follows one verified batch: tokens beyond one per batch were accepted drafts.
        accepted = generated - CountingDrafts.calls - len(prompts)
        p50 = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
        print(f"{language:8} {len(prompts)} sites  prefill p50 {p50(a, 0):6.0f} -> {p50(b, 0):6.0f} ms   "
              f"decode p50 {p50(a, 1):5.1f} -> {p50(b, 1):5.1f} ms/token   "
              f"drafts accepted {max(0, accepted)}/{CountingDrafts.drafted} ({max(0, accepted) / max(1, CountingDrafts.drafted):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
