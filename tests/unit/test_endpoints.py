"""The endpoint layer's pure parts: capped errors, the field-count pre-check, deadlines, outage logging."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError, NetworkTimeout, ServerSelectionTimeoutError

from mignet_contracts import registry as g
from mignet_contracts import reviews as r
from mignet_contracts.envelope import ErrorBody, ErrorDetail, Reply
from mignet_runtime.client import TIMEOUT_HEADER, deadline_headers
from mignet_runtime.endpoints import (
    MAX_DETAIL_CHARS,
    MAX_DETAILS,
    MAX_FIELDS,
    BadTimeout,
    capped,
    deadline_of,
    fit,
    too_many_fields,
    validation_error,
)
from mignet_runtime.outages import Outage, Throttled, mongodb_down


def test_capped_keeps_the_first_details_and_says_how_many_more():
    body = ErrorBody(
        code="rejected",
        message="m" * 10_000,
        details=[ErrorDetail(field=f"f{i}", message="x" * 5000) for i in range(100)],
    )
    out = capped(body)
    assert len(out.details) == MAX_DETAILS
    assert [d.field for d in out.details[:2]] == ["f0", "f1"]
    assert out.details[-1].message == f"and {100 - MAX_DETAILS + 1} more errors"
    assert all(len(d.message) <= MAX_DETAIL_CHARS for d in out.details)
    assert len(out.message) <= 2 * MAX_DETAIL_CHARS
    assert len(Reply(ok=False, error=out).model_dump_json()) < 10_000


def test_a_small_error_is_left_alone():
    body = ErrorBody(code="rejected", message="no", details=[ErrorDetail(field="a", message="b")])
    assert capped(body) is body


def test_validation_error_never_echoes_the_input_and_is_capped():
    secret = "do-not-echo-this@example.org"
    with pytest.raises(ValidationError) as excinfo:
        g.CreateNetwork.model_validate({"actor": "a", **{f"k{i}": secret for i in range(500)}})
    body = validation_error(excinfo.value)
    assert len(body.details) == MAX_DETAILS
    assert secret not in body.model_dump_json()


def test_an_array_over_its_bound_is_one_error_not_one_per_element():
    with pytest.raises(ValidationError) as excinfo:
        r.SubmitContribution.model_validate_json(json.dumps({"objectives": [0] * 10_000}))
    objectives = [e for e in excinfo.value.errors() if e["loc"] == ("objectives",)]
    assert [e["type"] for e in objectives] == ["too_long"]
    assert excinfo.value.error_count() < 20
    # Within the bound, the elements are still validated one by one.
    with pytest.raises(ValidationError) as excinfo:
        r.SubmitContribution.model_validate_json(json.dumps({"objectives": [0, 24]}))
    assert {e["loc"] for e in excinfo.value.errors() if e["type"] == "value_error"} == {
        ("objectives", 0),
        ("objectives", 1),
    }


def test_too_many_fields_refuses_a_stuffed_request_and_lists_unknown_keys():
    body = json.dumps({"actor": "a", **{f"k{i}": 0 for i in range(MAX_FIELDS + 1)}}).encode()
    refusal = too_many_fields(g.CreateNetwork, body)
    assert refusal is not None and refusal.code == "validation_error"
    assert f"{MAX_FIELDS + 2:,} fields" in refusal.message
    assert refusal.details[0].field == "k0"
    nested = json.dumps({"members": [{f"k{i}": 0 for i in range(MAX_FIELDS + 1)}]}).encode()
    assert too_many_fields(g.CreateNetwork, nested) is not None


def test_too_many_fields_passes_ordinary_requests_even_with_many_colons():
    assert too_many_fields(g.CreateNetwork, b'{"actor":"a","scope":"global"}') is None
    many_colons = json.dumps(
        {"actor": "a", "network_name": "x", "scope": "global", "terms": ":" * (MAX_FIELDS * 2)}
    ).encode()
    assert too_many_fields(g.CreateNetwork, many_colons) is None


async def test_deeply_nested_json_is_a_validation_error_not_a_crash():
    from mignet_runtime.endpoints import answer

    async def never(_):
        raise AssertionError("not reached")

    deep = b'{"a":' * 40_000 + b"1" + b"}" * 40_000
    assert len(deep) < 256 * 1024
    reply = Reply.model_validate_json(await answer(g.CreateNetwork, deep, never))
    assert reply.error.code == "validation_error"


def test_fit_replaces_a_reply_over_max_payload():
    assert fit(b"x" * 100, 100, "s") == b"x" * 100
    short = Reply.model_validate_json(fit(b"x" * 101, 100, "s"))
    assert short.error.code == "internal" and "smaller limit" in short.error.message


def test_deadline_is_relative_to_receipt():
    assert deadline_of(None, 100.0) is None
    assert deadline_of({"other": "1"}, 100.0) is None
    assert deadline_of(deadline_headers(2.5), 100.0) == pytest.approx(102.5)
    assert deadline_headers(0.0001) == {TIMEOUT_HEADER: "1"}
    assert deadline_of(deadline_headers(10**9), 0.0) == 86_400  # a client's huge timeout is capped, not refused
    for bad in ("", "1.5", "-1", "0", "abc", str(10**12)):
        with pytest.raises(BadTimeout):
            deadline_of({TIMEOUT_HEADER: bad}, 0.0)


def test_which_mongodb_errors_mean_unavailable():
    assert mongodb_down(ServerSelectionTimeoutError("no servers"))
    assert mongodb_down(NetworkTimeout("timed out"))
    assert not mongodb_down(DuplicateKeyError("dup"))
    assert not mongodb_down(ValueError("x"))


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(caplog):
    caplog.set_level(logging.INFO, logger="mignet_runtime.outages")
    now = [0.0]
    outage = Outage("MongoDB", clock=lambda: now[0])
    outage.recovered()  # up already: nothing to say
    for _ in range(50):
        outage.failed(ServerSelectionTimeoutError("localhost:1: [Errno 111] Connection refused\nTopology..."))
    now[0] = 12.0
    outage.recovered()
    outage.recovered()
    messages = [(rec.levelname, rec.getMessage()) for rec in caplog.records]
    assert len(messages) == 2
    assert messages[0][0] == "WARNING" and "Connection refused" in messages[0][1] and "Topology" not in messages[0][1]
    assert messages[1] == ("INFO", "MongoDB is back after 12.0s; 50 failures while it was down")


def test_throttled_logs_one_line_per_interval_with_a_count(caplog):
    caplog.set_level(logging.WARNING, logger="t")
    now = [0.0]
    throttled = Throttled(logging.getLogger("t"), interval=10, clock=lambda: now[0])
    for i in range(5):
        throttled.warning("k", "busy %d", i)
    now[0] = 11.0
    throttled.warning("k", "busy %d", 5)
    throttled.warning("other", "other")
    assert [rec.getMessage() for rec in caplog.records] == [
        "busy 0",
        "busy 5 (and 4 more like it in the last 11s)",
        "other",
    ]


def test_the_shedding_and_timeout_settings_come_from_the_environment(monkeypatch):
    from mignet_runtime.settings import Settings

    monkeypatch.setenv("MIGNET_REQUEST_QUEUE", "7")
    monkeypatch.setenv("MIGNET_MAX_QUEUE_WAIT_MS", "250")
    monkeypatch.setenv("MIGNET_MONGODB_TIMEOUT_MS", "1500")
    settings = Settings.from_env()
    assert (settings.request_queue, settings.max_queue_wait_ms, settings.mongodb_timeout_ms) == (7, 250, 1500)
    for name, bad in (
        ("MIGNET_REQUEST_QUEUE", "-1"),
        ("MIGNET_MONGODB_TIMEOUT_MS", "0"),
        ("MIGNET_MAX_QUEUE_WAIT_MS", "soon"),
    ):
        monkeypatch.setenv(name, bad)
        with pytest.raises(SystemExit, match=name):
            Settings.from_env()
        monkeypatch.delenv(name)
