"""Logging for the server: stderr or a log file (stdout belongs to the protocol), warnings forwarded
to the editor as `window/logMessage`."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

LEVELS = {logging.ERROR: types.MessageType.Error, logging.WARNING: types.MessageType.Warning}


class EditorLogHandler(logging.Handler):
    """Forwards warnings and errors to the editor's log; never raises into the caller."""

    def __init__(self, server: "KuraServer") -> None:
        super().__init__(level=logging.WARNING)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("pygls"):  # pygls' own transport warnings would echo forever
            return
        try:
            self.server.window_log_message(
                types.LogMessageParams(type=LEVELS.get(record.levelno, types.MessageType.Warning),
                                       message=self.format(record))
            )
        except Exception:
            pass


class BriefRecords(logging.Filter):
    """Outside debug level, one bounded line per record. pygls logs each message it cannot handle
    with its params and a traceback, and errors quote what the editor sent: a burst of malformed
    100 kB messages wrote 21 MB of log. kura logs the error it reports itself, in a line."""

    MAX_CHARS = 400

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name.startswith("pygls"):
            message = message.split("\n", 1)[0]
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            record.exc_info, record.exc_text = None, None
        if len(message) > self.MAX_CHARS:
            message = message[:self.MAX_CHARS] + f" … ({len(message)} characters)"
        record.msg, record.args = message, None
        return True


def configure_logging(server: "KuraServer", log_file: str | None, level: str = "info") -> None:
    root = logging.getLogger()
    for existing in list(root.handlers):  # the CLI's default stderr handler would print twice
        root.removeHandler(existing)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if level != "debug":
        handler.addFilter(BriefRecords())
    root.addHandler(handler)
    root.addHandler(EditorLogHandler(server))
    # pygls logs every message it sends at INFO: only worth having when debugging the protocol.
    logging.getLogger("pygls").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    # httpcore's debug lines (each socket step of each request to a model server) drown kura's own.
    logging.getLogger("httpcore").setLevel(logging.INFO)
