"""Which files get indexed: git's view inside a repository, .gitignore outside, and the skips."""

from __future__ import annotations

import os

from repo_fixtures import make_repo, write

from indexer.files import content_skip_reason, discover, ignored_paths


def paths(discovery) -> list[str]:
    return sorted(f.path for f in discovery.files)


def test_git_repository_lists_tracked_and_untracked_but_not_ignored_files(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n", ".gitignore": "build/\n*.gen.py\n", "README.md": "hi\n"})
    write(repo, {"new.py": "y = 2\n", "build/out.py": "z = 3\n", "b.gen.py": "w = 4\n"})
    found = discover(repo)
    assert found.used_git
    assert paths(found) == ["a.py", "new.py"]


def test_outside_git_the_walk_honours_nested_gitignores_and_skips_vendor_dirs(tmp_path):
    write(tmp_path, {
        ".gitignore": "*.log\nout/\n", "src/keep.py": "a = 1\n", "src/.gitignore": "secret.py\n",
        "src/secret.py": "b = 2\n", "out/gen.py": "c = 3\n", "node_modules/m/index.js": "x\n",
        ".venv/lib/site.py": "d = 4\n", "src/deep/mod.go": "package deep\n",
    })
    found = discover(tmp_path)
    assert not found.used_git
    assert paths(found) == ["src/deep/mod.go", "src/keep.py"]


def test_binary_oversized_and_minified_files_are_skipped_and_counted(tmp_path):
    write(tmp_path, {
        "ok.py": "def f():\n    return 1\n",
        "blob.py": b"\x00\x01\x02" * 100,
        "big.py": "x = 1\n" * 5000,
        "min.js": "var a=1;" * 2000,
        "readme.txt": "not code",
    })
    found = discover(tmp_path, max_file_bytes=20_000)
    assert paths(found) == ["ok.py"]
    assert found.skipped == {"binary": 1, "too_large": 1, "minified": 1}


def test_one_long_line_in_a_short_file_is_not_minified():
    assert content_skip_reason(b"x = '" + b"a" * 400 + b"'\n") is None
    assert content_skip_reason(b"def f():\n" + b"    return '" + b"a" * 6000 + b"'\n") == "minified"
    assert content_skip_reason(b"print('hi')\n" * 50 + b"\0") == "binary"


def test_symlinks_out_of_the_root_are_skipped_and_loops_do_not_hang(tmp_path):
    outside = tmp_path / "outside"
    write(outside, {"secret.py": "password = 1\n"})
    root = tmp_path / "root"
    write(root, {"real.py": "a = 1\n", "pkg/mod.py": "b = 2\n"})
    os.symlink(outside / "secret.py", root / "leak.py")
    os.symlink(outside, root / "leakdir")
    os.symlink(root / "loop_b.py", root / "loop_a.py")
    os.symlink(root / "loop_a.py", root / "loop_b.py")
    os.symlink(root, root / "pkg" / "up")  # a directory loop
    os.symlink(root / "real.py", root / "alias.py")  # inside the root: fine
    found = discover(root)
    assert paths(found) == ["alias.py", "pkg/mod.py", "real.py"]
    assert found.skipped["symlink_outside_root"] == 1
    assert found.skipped["symlink_broken_or_loop"] == 2


def test_symlinks_tracked_by_git_are_checked_too(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("token = 1\n")
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"}, commit=False)
    os.symlink(outside, repo / "leak.py")
    found = discover(repo)
    assert paths(found) == ["a.py"]
    assert found.skipped == {"symlink_outside_root": 1}


def test_an_empty_directory_has_nothing_to_index(tmp_path):
    found = discover(tmp_path)
    assert found.files == [] and not found.skipped


def test_ignored_paths_uses_git_inside_a_repository_and_gitignore_outside(tmp_path):
    repo = make_repo(tmp_path / "r", {".gitignore": "gen/\n", "tracked.py": "a = 1\n"})
    assert ignored_paths(repo, ["gen/x.py", "src/y.py", "tracked.py"]) == {"gen/x.py"}
    plain = tmp_path / "plain"
    write(plain, {".gitignore": "gen/\n"})
    assert ignored_paths(plain, ["gen/x.py", "src/y.py"]) == {"gen/x.py"}
