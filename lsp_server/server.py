"""`create_server()` builds the one `KuraServer`; features register their handlers on it.

The server object holds the session's state (settings, index, model worker, last error); features
are plain functions in `lsp_server/features/`, one module per LSP feature area.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.language_server import lsp_method

from assistant.settings import Settings

log = logging.getLogger(__name__)

VERSION = "0.1.0"
FEATURES = (
    "usage",
    "lifecycle",
    "documents",
    "navigation",
    "completion",
    "status",
    "explain",
    "ask",
    "fix",
    "generate",
    "escalation",
)

T = TypeVar("T")

# The one kind of error pygls reports that the user may act on: a handler of ours failed on a
# notification, so kura may be out of step with the editor until it is restarted.
INTERNAL_ERROR = "internal error"


def _output_closed(error: Exception) -> bool:
    """Whether an error is the editor's end of the connection being closed (pygls reports failed
    writes like any other error)."""
    if isinstance(error, (BrokenPipeError, ConnectionResetError)):
        return True
    return isinstance(error, ValueError) and "closed file" in str(error)


def _is_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(value: Any) -> Any:
    """`value` with every lone UTF-16 surrogate (JSON may escape one, "\\ud800"; no UTF-8 file can
    hold one) replaced by U+FFFD, so that SQLite, tree-sitter and the model never meet a string
    they cannot encode."""
    if isinstance(value, str):
        return value if value.isascii() or not _LONE_SURROGATE.search(value) else _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(v) for v in value]
    return value


class KuraProtocol(LanguageServerProtocol):
    """pygls' protocol, hardened against messages no editor should send: each is refused with an
    error (a reply where the request can be answered) instead of tripping pygls up further on."""

    def structure_message(self, data: dict[str, Any]):
        # pygls structures each message inside `json.loads` and drops one that does not fit its
        # method: the client would wait for the reply to that request forever.
        if "jsonrpc" in data:  # the whole message (inner objects pass through here first, as they are)
            data = without_lone_surrogates(data)
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "method" not in data:
                raise
            cause = error.__cause__ or error
            invalid = JsonRpcInvalidParams(f"Invalid Params for {data['method']!r:.80}: {type(cause).__name__}: {cause}"[:300])
            if _is_id(data.get("id")):
                self._send_response(data["id"], error=invalid.to_response_error())
            raise invalid from cause

    def handle_message(self, message: Any) -> None:
        if not hasattr(message, "jsonrpc"):  # JSON that is not a JSON-RPC object: a list, a number, {}
            raise JsonRpcInvalidRequest(f"Invalid Request: not a JSON-RPC message object: {str(message)[:80]}")
        method, msg_id = getattr(message, "method", None), getattr(message, "id", None)
        if hasattr(message, "id") and not _is_id(msg_id):  # pygls would key its futures by it
            raise JsonRpcInvalidRequest(f"Invalid Request: the id must be a number or a string, got {msg_id!r:.80}")
        if hasattr(message, "method") and not isinstance(method, str):  # pygls would fail to name it
            error = JsonRpcInvalidRequest(f"Invalid Request: the method must be a string, got {method!r:.80}")
            if hasattr(message, "id"):
                self._send_response(msg_id, error=error.to_response_error())
            raise error
        super().handle_message(message)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        # pygls raises KeyError for a change to a document that is not open: there is no text to change.
        if unquote(params.text_document.uri) not in self.workspace.text_documents:
            self._server.record_error(f"kura: ignored a change to {params.text_document.uri[:200]}, which the editor has not opened")
            return
        yield from super().lsp_text_document__did_change(params)


def fail_fast_converter():
    """pygls' converter without cattrs' detailed validation, which collects an error for every element
    that does not fit: a 100 kB string where a list belongs cost a minute of CPU on the event loop."""
    converter = default_converter()
    converter.detailed_validation = False
    return converter


class KuraServer(LanguageServer):
    """The language server and its session state."""

    def __init__(self) -> None:
        super().__init__("kura", VERSION, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=KuraProtocol, converter_factory=fail_fast_converter)
        self.settings = Settings()
        self.root: Path | None = None
        self.locale: str = ""
        self.index = None  # indexer.index.Index once opened
        self.index_state = "not started"  # not started | indexing | ready | unavailable | error
        self.index_progress: dict[str, Any] = {}
        self.index_updated_at: float | None = None
        self.watcher = None
        self.completions = None  # assistant.completion.service.CompletionService once initialized
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.told_user: set[str] = set()  # the kinds of message shown this session (see tell_user_once)
        self.editor_gone = False  # writing to the editor failed: its end of the connection is closed
        # Features that need to act on these events register here (pygls allows one handler per method).
        self.after_initialized: list[Callable[["KuraServer"], Any]] = []
        self.after_save: list[Callable[["KuraServer", str], Any]] = []
        self.before_shutdown: list[Callable[["KuraServer"], Any]] = []
        self.usage = None  # lsp_server.features.usage.UsageRecorder, set when that feature registers
        self.recent_edits: dict[str, tuple[float, int]] = {}  # repo-relative path -> (time, line) of last edit
        # Never on the event loop: index builds and updates run one at a time on their own thread,
        # while queries (one SQLite connection per thread) run beside them, even mid-build.
        self.index_executor = ThreadPoolExecutor(1, thread_name_prefix="kura-index")
        self.query_executor = ThreadPoolExecutor(2, thread_name_prefix="kura-query")

    # --- helpers the features share -------------------------------------------------------

    async def in_index_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run an index write (build, update) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.index_executor, fn, *args)

    async def query(self, fn: Callable[..., T], *args: Any) -> T:
        """Run an index read off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.query_executor, fn, *args)

    def document(self, uri: str):
        """The open document, or the file on disk; None when neither exists or can be read."""
        try:
            doc = self.workspace.get_text_document(uri)
            doc.source  # unopened documents are read from disk lazily: fail here, not in a feature
            return doc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            log.info("no document for %s: %s", uri, exc)
            return None

    def relative_path(self, uri: str) -> str | None:
        """The repository-relative POSIX path of a `file:` URI inside the root, else None."""
        if self.root is None:
            return None
        path = uri_to_path(uri)
        if path is None:
            return None
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None

    def index_updated(self) -> None:
        """Called on the event loop after any index update."""
        self.index_updated_at = time.time()
        if self.completions is not None:
            self.completions.index_changed()

    def record_error(self, message: str, *, show: bool = False, once_per: str | None = None) -> None:
        """Remember an error for `kura/status` and warn in the editor's log; with `show`, pop it up
        too, once per kind (`once_per`, by default the line that calls this) in the session."""
        log.warning("%s", message)
        self.last_error, self.last_error_at = message, time.time()
        self.log_to_editor(message, types.MessageType.Warning)
        if show:
            self.tell_user_once(once_per or _call_site(), message, types.MessageType.Error)

    def report_server_error(self, error: Exception, source: type[Exception]) -> None:
        """pygls' hook for every error it catches (unreadable messages, params of the wrong shape,
        handlers that raise). pygls has already logged it with its traceback; here it becomes
        `lastError`, and only a failing notification handler is told to the user, once.

        pygls' reading loop calls this without a guard, so it must never raise."""
        try:
            if self.editor_gone or _output_closed(error):
                # Sending failed because the editor went away: telling it would fail again, and each
                # failure would be reported here again, for ever.
                self.editor_gone = True
                log.info("the editor's end of the connection is closed: %s", error)
            elif isinstance(error, JsonRpcMethodNotFound):  # the request got its error reply; nothing broke
                log.info("%s", error)
            elif source is FeatureNotificationError:
                data = getattr(error, "data", None)
                if isinstance(data, dict) and data.get("traceback"):  # pygls logs no traceback for these
                    log.error("a notification handler failed: %s\n%s", error, "".join(data["traceback"]))
                self.record_error(f"kura: internal error: {error}; kura may be out of step with the editor until "
                                  "it is restarted (later errors go to the log only)", show=True, once_per=INTERNAL_ERROR)
            elif source is FeatureRequestError:
                self.record_error(f"kura: a request failed: {error}")
            else:  # the message itself could not be read or answered
                what = error if isinstance(error, JsonRpcException) else JsonRpcInvalidRequest(f"{type(error).__name__}: {error}")
                self.record_error(f"kura: could not handle a message from the editor: {what}")
        except Exception:
            log.exception("could not report an error")

    def tell_user_once(self, kind: str, message: str, level: types.MessageType = types.MessageType.Warning) -> bool:
        """Pop `message` up unless a message of this kind was shown already this session (then it is
        only logged): the one way kura shows a message. Returns whether it was shown."""
        if self.editor_gone:
            log.info("the editor is gone; not shown: %s", message)
            return False
        if kind in self.told_user:
            log.info("not shown again (%s): %s", kind, message)
            return False
        self.told_user.add(kind)
        try:
            self.window_show_message(types.ShowMessageParams(type=level, message=message))
        except Exception:
            log.debug("could not show message", exc_info=True)
        return True

    def log_to_editor(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        if self.editor_gone:
            return
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # no client attached (e.g. during shutdown): the log file still has it
            log.debug("could not forward log message", exc_info=True)

    def show_to_user(self, message: str, kind: types.MessageType = types.MessageType.Warning, *,
                     once_per: str | None = None) -> None:
        """Pop `message` (of MessageType `kind`) up once per kind of message, `once_per`: by default
        the line that calls this, so a failure repeated, or a stream of bad requests, is one popup."""
        self.tell_user_once(once_per or _call_site(), message, kind)


def _call_site() -> str:
    """`module:function:line` of the caller of the function that calls this."""
    frame = sys._getframe(2)
    return f"{frame.f_globals.get('__name__')}:{frame.f_code.co_name}:{frame.f_lineno}"


def uri_to_path(uri: str) -> Path | None:
    from pygls.uris import to_fs_path

    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


def create_server() -> KuraServer:
    server = KuraServer()
    for name in FEATURES:
        try:
            module = importlib.import_module(f"lsp_server.features.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lsp_server.features.{name}":
                raise
            continue  # a feature not written yet
        module.register(server)
    return server
