"""Building evaluation sets from a real repository: seeded, spread, versioned, confidential paths respected."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation import EvalError
from assistant.evaluation.build import build_set
from assistant.evaluation.store import EvalStore
from eval_fixtures import FILES, git, make_repo


def ids(eval_set) -> list[str]:
    return [t.id for t in eval_set.tasks]


def test_the_same_seed_builds_the_same_set_and_another_seed_another(repo, tmp_path, index_path):
    first = build_set(repo, EvalStore(tmp_path / "a"), n=9, seed=5, index_path=index_path).set
    again = build_set(repo, EvalStore(tmp_path / "b"), n=9, seed=5, index_path=index_path).set
    other = build_set(repo, EvalStore(tmp_path / "c"), n=9, seed=6, index_path=index_path).set
    assert ids(first) == ids(again) and len(ids(first)) == 9
    assert [t.to_dict() for t in first.tasks] == [t.to_dict() for t in again.tasks]
    assert ids(other) != ids(first)


def test_a_set_spreads_over_kinds_and_languages_and_records_where_it_came_from(repo, store, index_path):
    result = build_set(repo, store, n=9, seed=1, index_path=index_path)
    s = result.set
    assert {t.kind for t in s.tasks} == {"line", "span", "body"}
    assert {t.language for t in s.tasks} == {"python", "go", "javascript"}
    head = git(repo, "rev-parse", "HEAD").strip()
    assert all(t.commit == head and t.added_in == "v0001" for t in s.tasks)
    assert s.manifest["commit"] == head and s.manifest["seed"] == 1
    assert sum(s.manifest["counts"]["kind"].values()) == 9
    for t in s.tasks:  # each task is the file with a hole, and the hole's text
        assert t.original == (repo / t.path).read_text()
        assert t.original.split("\n")[t.start_line][t.start_col:].startswith(t.expected.split("\n")[0])


def test_confidential_paths_never_give_a_task(repo, store, index_path):
    result = build_set(repo, store, n=60, seed=2, index_path=index_path)
    paths = {t.path for t in result.set.tasks}
    assert "billing/invoice.py" in paths
    assert not any(p.startswith("vault/") for p in paths)
    assert result.confidential_files == 1
    raw = (store.sets_dir / "v0001.jsonl").read_text()
    assert "hidden_secret" not in raw and "rotated_secret" not in raw


def test_without_a_policy_file_every_path_may_give_tasks(tmp_path, index_path):
    repo = make_repo(tmp_path / "open")
    result = build_set(repo, EvalStore.for_repo(repo), n=60, seed=2, index_path=index_path)
    assert any(t.path == "vault/keys.py" for t in result.set.tasks)


def test_a_broken_policy_stops_the_build_naming_file_and_line(repo, store, index_path):
    (repo / ".kura" / "policy.toml").write_text('version = 1\n[paths]\nconfidential = "vault/**"\n')
    with pytest.raises(EvalError) as caught:
        build_set(repo, store, n=5, index_path=index_path)
    message = str(caught.value)
    assert "policy.toml:3" in message and "confidential" in message
    assert store.versions() == []


def test_each_build_is_a_new_version_carrying_forward_what_is_still_valid(repo, store, index_path):
    v1 = build_set(repo, store, n=9, seed=3, index_path=index_path).set
    v1_bytes = (store.sets_dir / "v0001.jsonl").read_bytes()
    changed = next(t for t in v1.tasks if t.path == "billing/invoice.py")
    text = (repo / changed.path).read_text()
    (repo / changed.path).write_text(text.replace(changed.expected, changed.expected + "  # edited", 1))
    (repo / "web" / "format.js").unlink()
    gone = [t for t in v1.tasks if t.path == "web/format.js"]

    result = build_set(repo, store, n=4, seed=3, index_path=index_path)
    v2 = result.set
    assert v2.version == "v0002" and store.versions() == ["v0001", "v0002"]
    assert (store.sets_dir / "v0001.jsonl").read_bytes() == v1_bytes  # older versions never change
    kept = {t.id for t in v1.tasks} - {changed.id} - {t.id for t in gone}
    assert kept <= set(ids(v2))
    assert changed.id not in ids(v2) and not {t.id for t in gone} & set(ids(v2))
    assert result.carried == len(kept) and result.new == 4 and len(v2.tasks) == len(kept) + 4
    assert result.dropped["file gone"] == len(gone) and result.dropped["text changed"] >= 1
    assert {t.added_in for t in v2.tasks} == {"v0001", "v0002"}
    assert v2.manifest["previous"] == "v0001"
    assert store.load_set("v1").version == "v0001" and store.load_set("latest").version == "v0002"


def test_a_set_edited_after_it_was_built_is_refused(repo, store, index_path):
    build_set(repo, store, n=3, index_path=index_path)
    path = store.sets_dir / "v0001.jsonl"
    path.write_text(path.read_text().replace('"line"', '"span"', 1))
    with pytest.raises(EvalError, match="immutable"):
        store.load_set()


def test_an_unknown_set_version_lists_the_known_ones(repo, store, index_path):
    build_set(repo, store, n=3, index_path=index_path)
    with pytest.raises(EvalError, match=r"unknown set version 'v7'.*available: v0001"):
        store.load_set("v7")


def test_a_repository_with_no_indexable_files_says_no_tasks_could_be_built(tmp_path, index_path):
    repo = make_repo(tmp_path / "docs", {"README.md": "# Just words\n", "notes.txt": "nothing to parse\n"})
    with pytest.raises(EvalError, match="no tasks could be built: .* has no indexable source files"):
        build_set(repo, EvalStore.for_repo(repo), n=5, index_path=index_path)


def test_the_first_build_writes_a_starter_checklist_once(repo, store, index_path):
    assert build_set(repo, store, n=2, index_path=index_path).checklist_created
    store.checklist_path.write_text("# ours\n")
    assert not build_set(repo, store, n=2, index_path=index_path).checklist_created
    assert store.checklist_path.read_text() == "# ours\n"


def test_explanation_prompts_become_tasks_with_their_code_and_facts(repo, store, index_path):
    store.prompts_dir.mkdir(parents=True)
    (store.prompts_dir / "billing.toml").write_text(
        '[[prompt]]\nname = "totals"\npath = "billing/invoice.py"\nlines = [14, 17]\n'
        'must_mention = ["tax", "discount"]\n\n'
        '[[prompt]]\nname = "inline"\nlanguage = "go"\ncode = "func f() int { return 1 }"\nmust_mention = ["one"]\n')
    s = build_set(repo, store, n=2, index_path=index_path).set
    totals, inline = s.explains
    assert totals.code.startswith("def invoice_total(") and totals.must_mention == ("tax", "discount")
    assert (totals.start_line, totals.end_line) == (13, 16)
    assert inline.path.endswith(".go") and inline.language == "go"
    assert json.loads((store.sets_dir / "v0001.json").read_text())["explanations"] == 2


@pytest.mark.parametrize("prompt, problem", [
    ('path = "vault/keys.py"\nlines = [1, 2]\nmust_mention = ["key"]\n', "confidential"),
    ('path = "billing/invoice.py"\nlines = [1, 999]\nmust_mention = ["x"]\n', "outside billing/invoice.py"),
    ('path = "billing/invoice.py"\nlines = [1, 2]\n', "must_mention"),
    ('code = "x = 1"\nlanguage = "cobol"\nmust_mention = ["x"]\n', "unknown language 'cobol'"),
])
def test_a_bad_prompt_stops_the_build_with_its_file_and_line(repo, store, index_path, prompt, problem):
    store.prompts_dir.mkdir(parents=True)
    (store.prompts_dir / "bad.toml").write_text(prompt)
    with pytest.raises(EvalError) as caught:
        build_set(repo, store, n=2, index_path=index_path)
    assert "bad.toml:" in str(caught.value) and problem in str(caught.value)


def test_the_fixture_repository_is_what_the_tests_think(repo):
    assert (repo / "vault" / "keys.py").read_text() == FILES["vault/keys.py"]
