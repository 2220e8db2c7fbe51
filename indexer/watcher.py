"""`IndexWatcher`: keeps an `Index` fresh from file-system events (watchdog), debounced and batched.

Events are collected until the tree has been quiet for `debounce_s`, then one `Index.update(paths)`
handles the batch on the watcher's own thread (a branch switch is one update, not thousands).
`.git/` is never watched for content; ignored files are dropped by `Index.update` itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from indexer.index import Index, IndexReport

log = logging.getLogger(__name__)

OnUpdate = Callable[[IndexReport, list[str]], None]


class _Collector(FileSystemEventHandler):
    def __init__(self, watcher: IndexWatcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return  # reads change nothing; a write already reported "modified"
        paths = [os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        if event.is_directory:
            # A directory moved or deleted as a whole reports no events for the files inside it.
            if event.event_type in ("moved", "deleted", "created"):
                for path in paths:
                    self.watcher._note_directory(path)
            return
        for path in paths:
            self.watcher._note(path)


class IndexWatcher:
    """Watch `index.root` and re-index changed files. `on_update(report, paths)` runs after each batch."""

    def __init__(self, index: Index, debounce_s: float = 0.3, on_update: OnUpdate | None = None,
                 max_wait_s: float = 5.0):
        self.index = index
        self.debounce_s = debounce_s
        self.max_wait_s = max_wait_s  # a tree that never goes quiet is still indexed this often
        self.on_update = on_update
        self._pending: set[str] = set()
        self._first_event = 0.0
        self._last_event = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._observer: Observer | None = None
        self._thread: threading.Thread | None = None
        self._git_dir = str(index.root / ".git")

    @property
    def pending(self) -> int:
        """Changed files waiting for the next batch."""
        with self._cond:
            return len(self._pending)

    def _note(self, path: str) -> None:
        if path == self._git_dir or path.startswith(self._git_dir + os.sep):
            return
        from indexer.languages import language_for_path

        if language_for_path(path) is None:
            return
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first_event = now
            self._pending.add(path)
            self._last_event = now
            self._cond.notify()

    def _note_directory(self, path: str) -> None:
        """Every file under a directory that appeared or went away: those on disk now and those the
        index holds."""
        if path == self._git_dir or path.startswith(self._git_dir + os.sep):
            return
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            for name in filenames:
                self._note(os.path.join(dirpath, name))
        try:
            prefix = Path(path).relative_to(self.index.root).as_posix() + "/"
        except ValueError:
            return
        for rel in self.index.indexed_paths(prefix):
            self._note(str(self.index.root / rel))

    def start(self) -> IndexWatcher:
        if self._observer:
            return self
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="kura-index-watcher", daemon=True)
        self._thread.start()
        self._observer = Observer()
        self._observer.schedule(_Collector(self), str(self.index.root), recursive=True)
        self._observer.start()
        return self

    def stop(self, flush: bool = True) -> None:
        """Stop watching; with `flush`, index what was still pending first."""
        if self._observer:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        with self._cond:
            self._stopping = True
            if not flush:
                self._pending.clear()
            self._cond.notify()
        if self._thread:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> IndexWatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _take_batch(self) -> list[str] | None:
        """Wait for a quiet batch; None once stopping with nothing left."""
        with self._cond:
            while True:
                if self._pending:
                    now = time.monotonic()
                    quiet_at = self._last_event + self.debounce_s
                    forced_at = self._first_event + self.max_wait_s
                    if self._stopping or now >= quiet_at or now >= forced_at:
                        batch = sorted(self._pending)
                        self._pending.clear()
                        return batch
                    self._cond.wait(min(quiet_at, forced_at) - now)
                elif self._stopping:
                    return None
                else:
                    self._cond.wait()

    def _loop(self) -> None:
        while (batch := self._take_batch()) is not None:
            try:
                report = self.index.update(paths=batch)
            except Exception:  # one bad batch must not stop the watcher
                log.exception("re-indexing %d changed files failed", len(batch))
                continue
            if self.on_update:
                try:
                    self.on_update(report, batch)
                except Exception:
                    log.exception("watcher callback failed")

