"""Log lines: JSON off a terminal, text on one, with the service and the ids bound for a request."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from mignet_runtime import logs


def record(message: str = "hello %s", *args, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("mignet_runtime.test", logging.WARNING, __file__, 1, message, args or ("there",), None)
    rec.__dict__.update(extra)
    return rec


def test_a_json_line_carries_the_service_and_the_bound_ids():
    formatter = logs.JsonFormatter("registry")
    with logs.bound(command_id="c-1", correlation_id="k-1", causation_id=None):
        line = json.loads(formatter.format(record(aggregate_id="nat-bd")))
    assert line["service"] == "registry"
    assert line["level"] == "WARNING" and line["message"] == "hello there" and line["time"].endswith("Z")
    assert (line["command_id"], line["correlation_id"], line["aggregate_id"]) == ("c-1", "k-1", "nat-bd")
    assert "causation_id" not in line  # None is left out, not printed as null
    # Outside the block the ids are gone.
    assert "command_id" not in json.loads(formatter.format(record()))


def test_a_json_line_holds_a_traceback_in_one_field():
    formatter = logs.JsonFormatter("reviews")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = formatter.format(rec)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]


def test_a_text_line_appends_the_ids_it_knows():
    formatter = logs.TextFormatter("registry")
    with logs.bound(command_id="c-1"):
        text = formatter.format(record(event_id="e-9"))
    assert text.endswith("hello there [command_id=c-1 event_id=e-9]")


def test_event_fields_come_from_the_cloudevents_headers():
    headers = {"ce-id": "e1", "ce-subject": "nat-bd", "ce-commandid": "c1", "ce-correlationid": "k1"}
    assert logs.event_fields(headers) == {
        "event_id": "e1",
        "aggregate_id": "nat-bd",
        "command_id": "c1",
        "correlation_id": "k1",
    }


async def test_concurrent_requests_keep_their_own_ids():
    formatter = logs.JsonFormatter("registry")
    seen: dict[str, str] = {}

    async def handle(command_id: str) -> None:
        with logs.bound(command_id=command_id):
            await asyncio.sleep(0.01)
            seen[command_id] = json.loads(formatter.format(record()))["command_id"]

    await asyncio.gather(*(handle(f"c-{i}") for i in range(5)))
    assert seen == {f"c-{i}": f"c-{i}" for i in range(5)}


def test_configure_writes_json_when_standard_error_is_not_a_terminal(monkeypatch):
    stream = io.StringIO()  # not a tty
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure("INFO", "registry")
        logging.getLogger("mignet_runtime.test").info("started")
        logs.configure("INFO", "registry", "text")
        logging.getLogger("mignet_runtime.test").info("again")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    first, second = stream.getvalue().splitlines()
    assert json.loads(first)["message"] == "started"
    assert second.endswith("INFO mignet_runtime.test: again")


def test_a_line_carries_the_trace_id_of_the_request_it_belongs_to():
    from opentelemetry.sdk.trace import TracerProvider

    from mignet_runtime import tracing

    formatter = logs.JsonFormatter("registry")
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with tracing.serving("registry.commands.x", {"traceparent": caller}):  # tracing off: passed on only
        assert json.loads(formatter.format(record()))["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "trace_id" not in json.loads(formatter.format(record()))
    provider = TracerProvider()
    tracing.configure(provider)
    try:
        with tracing.serving("registry.commands.x", {"traceparent": caller}):  # on: a span in the caller's trace
            assert json.loads(formatter.format(record()))["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    finally:
        tracing.configure(None)
        provider.shutdown()
