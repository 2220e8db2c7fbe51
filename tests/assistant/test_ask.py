"""Asking the codebase: the question's words, retrieval from a real index, citations taken from the
pieces the model was given, and "nothing found" decided before any model is asked."""

from __future__ import annotations

import pytest
from fixtures.ask_repo import RETRY_POLICY, SIGNATURE_CHECK, make_ask_repo

from assistant.tasks.ask import (
    AskPlan, Question, Source, answer_repeating, gather_sources, mentioned_labels, path_weight, plan_ask, question_terms, run_ask,
    sources_markdown,
)
from assistant.tasks.explain import file_line_reader
from indexer.index import Index


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = make_ask_repo(tmp_path_factory.mktemp("ask") / "payments-service")
    index = Index.open(root, root.parent / "index.db")
    index.update()
    yield root, index
    index.close()


def ask(repo, question: str) -> list[Source]:
    root, index = repo
    return gather_sources(Question(question), index, file_line_reader(root))


class NoModel:
    """A worker that fails the test if it is ever asked to generate."""

    async def generate(self, *args, **kwargs):
        raise AssertionError("the model was asked although nothing relevant was found")


def test_question_words_drop_what_kind_of_question_it_is():
    words = [t.word for t in question_terms("Where do we validate webhook signatures?")]

    assert words == ["validate", "webhook", "signatures"]


def test_a_pasted_paragraph_is_searched_by_its_first_words_only():
    paragraph = " ".join(f"term{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(500))

    words = [t.word for t in question_terms(paragraph)]

    assert words[:2] == ["termaa", "termba"] and len(words) == 12


def test_a_plural_in_the_question_finds_the_singular_in_the_code():
    (term,) = question_terms("signatures")

    assert term.matches("signature") and term.matches("signatures") and not term.matches("sign_in")


@pytest.mark.parametrize("asked, code, same", [
    ("retries", "retry", True), ("validation", "validate", True), ("configured", "config", True),
    ("database", "data", False), ("signature", "sign", False),
])
def test_word_forms_meet_but_different_words_do_not(asked, code, same):
    (term,) = question_terms(asked)

    assert term.matches(code) is same


def test_a_built_copy_is_dropped_and_tests_rank_below_the_code_they_test(tmp_path):
    from fixtures.ask_repo import RETRY
    from fixtures.git_repo import git

    root = make_ask_repo(tmp_path / "repo")
    (root / "dist").mkdir()
    (root / "dist" / "retry.py").write_text(RETRY)
    (root / "tests").mkdir()
    (root / "tests" / "test_retry.py").write_text("from payments.retry import RetryPolicy\n\n\n"
                                                  "def test_retry_policy_backoff():\n    assert RetryPolicy().delay(1) == 1.0\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "copies")
    with Index.open(root, tmp_path / "index.db") as index:
        index.update()
        sources = ask((root, index), "how does the retry policy work?")

    paths = [s.path for s in sources]
    assert paths[0] == "payments/retry.py" and "dist/retry.py" not in paths
    assert "tests/test_retry.py" in paths  # still cited, after the code


@pytest.mark.parametrize("path, weight", [
    ("payments/retry.py", 1.0), ("dist/axios.js", 0.5), ("lib/axios.min.js", 0.5), ("index.d.ts", 0.7),
    ("tests/test_retry.py", 0.75), ("retry_test.go", 0.75), ("test/specs/xsrf.spec.js", 0.75), ("examples/demo.py", 0.8),
])
def test_built_copies_declarations_tests_and_examples_count_less_than_the_code(path, weight):
    assert path_weight(path) == weight


@pytest.mark.parametrize("question, first", [
    ("where do we validate webhook signatures?", SIGNATURE_CHECK),
    ("how does the retry policy work?", RETRY_POLICY),
    ("Webhook の署名はどこで検証していますか？", SIGNATURE_CHECK),
])
def test_the_best_source_is_where_the_answer_is(repo, question, first):
    sources = ask(repo, question)

    assert sources and sources[0].label == first


def test_a_symbol_named_in_the_question_brings_the_lines_that_use_it(repo):
    sources = ask(repo, "where is SECRET used?")

    labels = [s.label for s in sources]
    assert "payments/handlers.py:6" in labels  # the definition
    assert any(s.kind == "reference" and s.path == "payments/handlers.py" and s.cited_line == 9 for s in sources)


@pytest.mark.parametrize("question", ["how do we charge credit cards?", "what is the meaning of this?", "???"])
def test_a_question_the_code_does_not_answer_finds_nothing(repo, question):
    assert ask(repo, question) == []


async def test_nothing_found_is_said_without_asking_the_model():
    plan = plan_ask(Question("how do we charge credit cards?"), [], language="en")
    chunks: list[str] = []

    outcome = await run_ask(NoModel(), plan, chunks.append)

    assert not plan.found and not outcome.found and outcome.citations == []
    assert "found nothing" in outcome.markdown and "`charge`" in outcome.markdown
    assert "".join(chunks) == outcome.markdown


async def test_nothing_found_is_said_in_the_users_language():
    outcome = await run_ask(NoModel(), plan_ask(Question("カードの決済はどこ？"), [], language="ja"))

    assert "見つかりませんでした" in outcome.markdown


def test_the_prompt_holds_the_sources_labelled_and_the_base_answer_opens_by_quoting_the_best(repo):
    sources = ask(repo, "how does the retry policy work?")

    plan = plan_ask(Question("how does the retry policy work?"), sources, style="base", language="ja")

    assert plan.found and plan.sources[0].label == RETRY_POLICY
    assert f"[{RETRY_POLICY}]" in plan.request.prompt and "def delay" in plan.request.prompt
    # A base model's answer opens with what the code says of itself, in the user's language.
    assert plan.lead == (f"`{RETRY_POLICY}` の `RetryPolicy` は「Retry a failed call with exponential backoff, "
                         "at most max_attempts times.」と説明されています。")
    assert plan.request.prompt.rstrip().endswith(plan.lead)


def test_a_small_context_window_keeps_fewer_sources_but_never_none(repo):
    sources = ask(repo, "where do we validate webhook signatures?")

    wide = plan_ask(Question("where do we validate webhook signatures?"), sources, context_tokens=8192)
    narrow = plan_ask(Question("where do we validate webhook signatures?"), sources, context_tokens=256)

    assert len(wide.sources) == len(sources[:6]) and 1 <= len(narrow.sources) <= len(wide.sources)


def test_a_looping_answer_is_stopped_even_when_newlines_arrive_with_the_next_word():
    loop = "The payload is invalid.\nThe payload is invalid.\nThe payload is invalid.\nThe"

    assert answer_repeating(loop) and not answer_repeating("The payload is invalid.\nIt is checked.\nThe")


def test_citations_list_every_source_as_path_line():
    sources = [Source("a/b.py", 4, 9, "def f(): ...", "chunk", "f", 1.0), Source("c.go", 0, 0, "x", "reference")]

    text = sources_markdown(sources, "en")

    assert mentioned_labels(text) == ["a/b.py:5", "c.go:1"]


async def test_an_answer_from_a_real_model_carries_the_plans_sources_as_citations(repo, tiny_gguf):
    from assistant.models.host import ModelHost
    from assistant.settings import ModelSettings
    from assistant.tasks.runner import ASK, TaskEnv, plan_task, run_task

    root, index = repo
    host = ModelHost(ModelSettings(path=str(tiny_gguf("qwen")), context_tokens=2048))
    try:
        worker = await host.worker()
        plan: AskPlan = await plan_task(ASK, Question("how does the retry policy work?"), worker,
                                        TaskEnv(index=index, root=root, context_tokens=2048))
        chunks: list[str] = []
        outcome = await run_task(ASK, plan, worker, chunks.append)
    finally:
        host.close()

    assert outcome.found and outcome.result is not None
    assert [s.label for s in outcome.citations] == [s.label for s in plan.sources] and outcome.citations
    assert outcome.markdown.rstrip().endswith(f"({plan.sources[-1].kind})")  # the sources close the answer
    assert f"`{RETRY_POLICY}`" in outcome.markdown and "".join(chunks) == outcome.markdown
