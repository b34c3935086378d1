"""Logs: one JSON object per line off a terminal, readable lines on one, each with the ids that tie it to a command.

Every line carries ``service`` and, when known, ``command_id``, ``correlation_id``,
``causation_id``, ``event_id``, ``aggregate_id`` and ``trace_id``. A request's
ids are bound for the time it is handled (:func:`bound`, a context variable, so
concurrent requests never mix them up); a log call may add more with
``extra=event_fields(headers)``.

``MIGNET_LOG_FORMAT``: ``auto`` (the default: JSON unless standard error is a
terminal), ``json`` or ``text``. Messages never carry personal data: the
runtime logs ids, subjects, types and error codes, never payloads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime

from mignet_contracts import envelope as ce
from mignet_runtime import tracing

#: The ids a line may carry, in the order they are printed.
ID_FIELDS = ("command_id", "correlation_id", "causation_id", "event_id", "aggregate_id", "trace_id")
FORMATS = ("auto", "json", "text")

_context: ContextVar[Mapping[str, str] | None] = ContextVar("mignet_log_context", default=None)


@contextlib.contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Adds ``ids`` (those not None) to every line logged inside, in this task and those it starts."""
    current = _context.get() or {}
    token = _context.set({**current, **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_ids() -> Mapping[str, str]:
    return _context.get() or {}


def event_fields(headers: Mapping[str, str] | None) -> dict[str, str]:
    """A recorded event's ids, from its CloudEvents headers, for ``extra=``."""
    headers = headers or {}
    pairs = (
        ("event_id", ce.H_ID),
        ("aggregate_id", ce.H_SUBJECT),
        ("command_id", ce.H_COMMAND),
        ("correlation_id", ce.H_CORRELATION),
        ("causation_id", ce.H_CAUSATION),
    )
    return {field: headers[header] for field, header in pairs if headers.get(header)}


def _ids(record: logging.LogRecord) -> dict[str, str]:
    ids = dict(current_ids())
    trace_id = tracing.current_trace_id()
    if trace_id:
        ids["trace_id"] = trace_id
    for name in ID_FIELDS:
        value = record.__dict__.get(name)
        if value:
            ids[name] = value
    return ids


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = _ids(record)
        line.update((name, ids[name]) for name in ID_FIELDS if name in ids)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The familiar line, with the service and the ids that are known appended in brackets."""

    def __init__(self, service: str):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = _ids(record)
        if not ids:
            return text
        head, _, tail = text.partition("\n")  # a traceback stays below the line
        said = " ".join(f"{name}={ids[name]}" for name in ID_FIELDS if name in ids)
        return f"{head} [{said}]" + (f"\n{tail}" if tail else "")


def configure(level: str, service: str, fmt: str = "auto") -> None:
    """The root logger's one handler, on standard error, in the chosen format."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(service) if use_json else TextFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.INFO))
