"""Structured logs: text or JSON lines (LOG_FORMAT), every record carrying the
request id, and a filter that scrubs anything shaped like a secret.

Nothing in `api` logs headers, bodies or query strings; the scrubber is the
second line of defence (a JWT, a bearer header, a password field).

One record is one line, whatever a client sent: a request path is decoded
(`%0a` becomes a newline), so the text format escapes control, line-separator
and direction characters in every field (`\x0a`, `\u202e`), and indents the
lines of a traceback, so only a record starts at the beginning of a line. JSON
escapes them by itself (ensure_ascii)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

SECRET_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)(bearer\s+)[^\s\"',]+"),
    re.compile(r"(?i)(\"?(?:password|refresh_token|access_token|secret)\"?\s*[:=]\s*\"?)[^\s\"',}&]+"),
)
STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
# C0 and C1 controls, line and paragraph separators, and the bidirectional marks and overrides
# (they reorder what a terminal shows).
UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
TRACEBACK_INDENT = "    "


def escape_controls(text: str) -> str:
    """The text on one line, every unsafe character written as its escape."""
    return UNSAFE_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                 else f"\\u{ord(m.group()):04x}", text)


def indent_lines(text: str) -> str:
    """A multi-line block (a traceback) under its record: each line escaped and indented."""
    return "\n".join(TRACEBACK_INDENT + escape_controls(line) for line in text.split("\n"))


def scrub(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + "[redacted]", text)
    return text


class ContextFilter(logging.Filter):
    """Adds the request id and scrubs the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class TextFormatter(logging.Formatter):
    """The plain format, one line per record: fields escaped (see the module docstring), tracebacks
    indented, escaped and scrubbed (exception messages may quote a header or a body; the filter
    only sees the message)."""

    def format(self, record: logging.LogRecord) -> str:
        # A copy: other handlers (pytest's, say) must see the record as it was.
        safe = logging.makeLogRecord(vars(record))
        safe.msg, safe.args = escape_controls(record.getMessage()), None
        safe.name = escape_controls(record.name)
        safe.levelname = escape_controls(record.levelname)
        safe.request_id = escape_controls(str(getattr(record, "request_id", REQUEST_ID.get())))
        safe.exc_text = None  # formatted again here, never taken from another handler's cache
        return super().format(safe)

    def formatException(self, ei: Any) -> str:  # noqa: N802  (logging's name)
        return indent_lines(scrub(super().formatException(ei)))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802  (logging's name)
        return indent_lines(super().formatStack(stack_info))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        # ensure_ascii (the default) writes every control and separator character as an escape.
        return json.dumps(entry, default=str, ensure_ascii=True)


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Make ours the root logger's only handler (replacing e.g. the CLI's basicConfig)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._navigator = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
