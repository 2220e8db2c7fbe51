"""Explanations with a base model: a document to continue in the answer's language, echoes held
back and asked again with less context, loops cut, the answer's language measured."""

from __future__ import annotations

import asyncio
import textwrap

from assistant.models.base import GenerationResult
from assistant.tasks.answer_checks import copied_share, in_language, is_echo, language_share, loop_start
from assistant.tasks.explain import (
    ECHO_ANSWER, ContextPiece, Target, code_kind, plan_explanation, prompt_text, resolve_target, run_explanation,
)

HELPERS = textwrap.dedent('''\
    import os


    def peek_length(stream):
        """How many bytes the stream holds, without reading it."""
        try:
            fd = stream.fileno()
            return os.fstat(fd).st_size
        except (AttributeError, OSError):
            return None
''')
PIECES = [ContextPiece("pkg/helpers.py:1", "import", "from .globals import session, settings, registry"),
          ContextPiece("pkg/streams.py:12", "definition", "def fileno(self) -> int:")]


def target() -> Target:
    return resolve_target("pkg/helpers.py", HELPERS, (4, 0), (4, 0))


def test_a_base_model_continues_a_japanese_explanation_after_the_code():
    plan = plan_explanation(target(), PIECES, language="ja", style="base")
    prompt = plan.request.prompt

    assert plan.request.messages is None and prompt.endswith("### 解説\nこの関数は")
    assert prompt.index("def peek_length") < prompt.rindex("### 解説")  # the code comes before its explanation
    assert prompt.count("### 解説") == 3  # two worked examples, then the one to write
    assert plan.lead == "この関数は" and plan.request.repeat_penalty > 1.0
    assert "\n## " in plan.request.stop and "\n```" in plan.request.stop


def test_a_base_model_gets_its_context_as_code_and_english_by_default():
    plan = plan_explanation(target(), PIECES, style="base")
    prompt = plan.request.prompt

    assert prompt.endswith("### Explanation (English)\nThis function")
    assert "# pkg/streams.py:12\ndef fileno(self) -> int:" in prompt and "(definition)" not in prompt
    assert plan.fallback is not None and "pkg/streams.py:12" not in plan.fallback.request.prompt


def test_an_instruct_model_keeps_the_chat_prompt_without_a_lead():
    plan = plan_explanation(target(), PIECES, language="ja", style="chat")

    assert plan.request.messages and plan.lead == "" and "Japanese" in plan.request.messages[-1]["content"]


def test_the_lead_names_what_the_code_is():
    assert code_kind(Target("a.go", "func (c *Command) Root() *Command {\n}\n", 0, 38, "go")) == "method"
    assert code_kind(Target("a.py", "class Cart:\n    pass\n", 0, 21, "python")) == "class"
    assert code_kind(target()) == "function"
    assert code_kind(Target("a.py", "x = 1\n", 0, 6, "python")) == "code"


class ScriptedWorker:
    """Answers each request with the next scripted text, streamed in small chunks, stopping where
    the request's should_stop says (as the real workers do); keeps the requests it was given."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    async def generate(self, request, cancel=None, on_text=None):
        self.requests.append(request)
        answer = self.answers.pop(0)
        answer = answer(request) if callable(answer) else answer
        text = ""
        for i in range(0, len(answer), 7):
            chunk = answer[i : i + 7]
            text += chunk
            await asyncio.sleep(0)
            on_text(chunk)
            if request.should_stop is not None and request.should_stop(text):
                return GenerationResult(text, "callback")
        return GenerationResult(text, "stop")


def echo_of_the_context(request):
    return "\n".join(["from .globals import session, settings, registry"] * 4)


def test_an_answer_that_echoes_the_prompt_is_not_shown_and_is_asked_again_with_less_context():
    plan = plan_explanation(target(), PIECES, style="base")
    worker = ScriptedWorker(echo_of_the_context, " returns the size of the stream's file in bytes, or None when it has no file.")
    seen = []

    outcome = asyncio.run(run_explanation(worker, plan, seen.append))

    assert outcome.retried and not outcome.echo
    assert "".join(seen) == outcome.markdown == "This function returns the size of the stream's file in bytes, or None when it has no file."
    assert "globals" not in worker.requests[1].prompt  # the retry had no context
    assert worker.requests[0].max_tokens == worker.requests[1].max_tokens


def test_an_answer_that_echoes_twice_says_so_instead():
    plan = plan_explanation(target(), PIECES, language="ja", style="base")
    worker = ScriptedWorker(echo_of_the_context, lambda r: HELPERS[HELPERS.index("def"):])
    seen = []

    outcome = asyncio.run(run_explanation(worker, plan, seen.append))

    assert outcome.echo and outcome.retried and outcome.markdown == ECHO_ANSWER["ja"] and seen == [ECHO_ANSWER["ja"]]


def test_an_echo_stops_generation_early():
    plan = plan_explanation(target(), [], style="base")
    worker = ScriptedWorker(lambda r: HELPERS * 5)

    outcome = asyncio.run(run_explanation(worker, plan))

    assert outcome.echo and outcome.result.stop_reason == "callback" and len(outcome.result.text) < 200


def test_a_loop_is_cut_where_it_starts():
    plan = plan_explanation(target(), [], language="ja", style="base")
    worker = ScriptedWorker("、ストリームの長さを返します。そのデータを読み込むと、" + "そのデータを読み込むと、" * 20)
    seen = []

    outcome = asyncio.run(run_explanation(worker, plan, seen.append))

    assert outcome.markdown == "この関数は、ストリームの長さを返します。 …" and "".join(seen) == outcome.markdown
    assert outcome.result.stop_reason == "callback"


def test_loops_are_found_by_their_repeating_tail():
    assert loop_start("abc, la la la la la ") == len("abc, ")
    assert loop_start("This function returns the length.") is None


def test_echo_is_long_runs_copied_from_the_prompt_not_a_quoted_name():
    prompt = "def peek_filelike_length(stream: typing.Any) -> int | None:\n    fd = stream.fileno()\n"

    assert is_echo("def peek_filelike_length(stream: typing.Any) -> int | None: fd = stream.fileno()", prompt)
    assert not is_echo("`peek_filelike_length` asks the stream for its file descriptor and returns its size.", prompt)
    assert copied_share("", prompt) == 0.0


def test_an_answer_that_writes_context_labels_of_its_own_is_an_echo_too():
    prompt = "Repository context:\n\n[cmd.go:12] (definition)\nfunc Root() *Command\n\nExplain cmd.go:40-44."
    invented = '[command.go:1] (import)\n"bytes"\n\n[command.go:2] (import)\n"context"\n\n[command.go:3] (import)\n"fmt"'

    assert is_echo(invented, prompt) and copied_share(invented, prompt) < 0.3
    assert not is_echo("Root walks up the parents [cmd.go:12] (definition) until it finds none.", prompt)


def test_the_answer_language_is_measured_by_script_with_code_left_out():
    japanese = "この関数は `peek_filelike_length(stream)` を使い、ストリームの長さを返します。"
    english = "This function returns the length of the stream, using `os.fstat`."

    assert in_language(japanese, "ja") and not in_language(japanese, "en")
    assert in_language(english, "en") and not in_language(english, "ja")
    assert language_share("```python\nx = 1\n```", "en") == 0.0
    assert not in_language("返回流的长度", "ja")  # kanji without kana is Chinese


def test_the_prompt_text_of_a_chat_request_is_its_messages():
    plan = plan_explanation(target(), PIECES, style="chat")

    assert "def peek_length" in prompt_text(plan.request)
