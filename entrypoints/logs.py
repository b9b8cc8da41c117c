"""Log lines as JSON objects, one a line, stamped with the request id; other libraries' chatter kept out.

Messages and extras are written by this service's own code, which never puts links, tokens, names or user ids in
them. Exception messages are another matter (a driver or a bug may quote data), so only an exception's type and
where it was raised are written.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from application.request_context import current_request_id
from entrypoints.legacy_settings import SILENT, SILENT_LEVEL

# The packages whose level LOG_LEVEL sets; every other library logs warnings and errors only, because their debug
# output can quote stored documents or URLs.
OWN_LOGGERS = ("domain", "application", "adapters", "entrypoints", "teleconsultation")
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Extras that repeat the message: uvicorn's ANSI-coloured copy of it.
_REDUNDANT_EXTRAS = frozenset({"color_message"})

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _RECORD_ATTRIBUTES and key not in _REDUNDANT_EXTRAS and not key.startswith("_")
        )
        if record.exc_info is not None and record.exc_info[0] is not None:
            entry["exception"] = _exception(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _exception(exc_info: ExcInfo) -> dict[str, Any]:
    kind, _, trace = exc_info
    frames = traceback.extract_tb(trace)
    return {"type": kind.__qualname__, "at": [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]}


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Send every log record to `stream` (stderr) as JSON; LOG_LEVEL applies to the service's own loggers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # SILENT (Mia's `silent`) quiets every logger, other libraries' too.
    root.setLevel(SILENT_LEVEL if level == SILENT else logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(SILENT_LEVEL if level == SILENT else level)
