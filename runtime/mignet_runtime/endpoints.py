"""Request-reply endpoints: bytes in, a validated contract to the handler, a Reply out.

Every request gets an answer, and every failure becomes a structured reply
(``code``, ``message``, per-field ``details``); nothing is written when
validation or a rule fails:

- error details are capped in number and size, and a reply too large for the
  connection's ``max_payload`` is replaced by a short error, so a reply can
  always be sent;
- a dependency that does not answer (MongoDB, NATS) is ``unavailable``, logged
  once per outage, not a traceback per request;
- a busy endpoint refuses what it cannot queue at once (``unavailable`` with
  ``retry_after_ms``) and drops, unanswered, requests whose client gave up
  before they could start (the ``Mignet-Timeout-Ms`` header).

:class:`EndpointServer` serves them straight from nats-py subscriptions (one
per subject, in a queue group) inside the service's FastStream app. A
FastStream subscriber's per-message pipeline (middlewares, logging context,
dependency injection) cost about 220 µs of CPU per request, measured against
about 20 µs for this loop: a quarter of a command's CPU in the service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import nats.errors
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pymongo.errors import PyMongoError

from mignet_contracts.envelope import Contract, ErrorBody, ErrorDetail, Reply
from mignet_runtime import tracing
from mignet_runtime.client import MAX_TIMEOUT_MS, TIMEOUT_HEADER
from mignet_runtime.errors import MignetError
from mignet_runtime.outages import NATS_DOWN, Outages, Throttled, describe, mongodb_down

log = logging.getLogger(__name__)
throttled = Throttled(log)

M = TypeVar("M", bound=Contract)
#: A request larger than this is refused before parsing.
MAX_REQUEST_BYTES = 256 * 1024
#: An error reply lists at most this many details, each cut to MAX_DETAIL_CHARS: about 10 KB at
#: most, so it always fits in a NATS message (1 MB by default) and costs little to build.
MAX_DETAILS = 20
MAX_DETAIL_CHARS = 300
#: Bounds of the retry hint a busy endpoint gives.
MIN_RETRY_MS, MAX_RETRY_MS = 10, 5_000
#: A bounded endpoint's MongoDB work may take this share of the time its client waits (the rest is
#: for the answer to get back), or of DEFAULT_QUERY_SECONDS when the client did not say.
BUDGET_SHARE = 0.8
DEFAULT_QUERY_SECONDS = 30.0


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summarized(details: list[ErrorDetail], total: int, what: str = "errors") -> list[ErrorDetail]:
    """At most MAX_DETAILS details: when there are more, the first ones and a last "and N more"."""
    if total <= MAX_DETAILS and len(details) == total:
        return details
    kept = details[: MAX_DETAILS - 1]
    return [*kept, ErrorDetail(field=None, message=f"and {total - len(kept):,} more {what}")]


def capped(body: ErrorBody) -> ErrorBody:
    """At most MAX_DETAILS details, each cut short, and a message of bounded size."""
    details = body.details
    if (
        len(details) <= MAX_DETAILS
        and len(body.message) <= MAX_DETAIL_CHARS * 2
        and all(len(d.message) <= MAX_DETAIL_CHARS and len(d.field or "") <= MAX_DETAIL_CHARS for d in details)
    ):
        return body
    kept = [
        ErrorDetail(
            field=_cut(d.field, MAX_DETAIL_CHARS) if d.field else None, message=_cut(d.message, MAX_DETAIL_CHARS)
        )
        for d in details[:MAX_DETAILS]
    ]
    return body.model_copy(
        update={"message": _cut(body.message, MAX_DETAIL_CHARS * 2), "details": _summarized(kept, len(details))}
    )


def _detail(error: ErrorDetails) -> ErrorDetail:
    location = ".".join(str(part) for part in error.get("loc", ()))
    message = error.get("msg", "invalid")
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return ErrorDetail(field=_cut(location, MAX_DETAIL_CHARS) or None, message=_cut(message, MAX_DETAIL_CHARS))


def _error_body(details: list[ErrorDetail], total: int) -> ErrorBody:
    summary = "; ".join(f"{d.field}: {d.message}" if d.field else d.message for d in details[:5])
    return ErrorBody(
        code="validation_error",
        message=_cut(f"invalid request: {summary}", MAX_DETAIL_CHARS * 2),
        details=_summarized(details, total),
    )


def validation_error(exc: ValidationError) -> ErrorBody:
    """The first MAX_DETAILS of pydantic's errors as details (the input values are never echoed)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return _error_body([_detail(e) for e in errors[:MAX_DETAILS]], len(errors))


#: Far more fields than any request has (the largest, a network created with all its members, has
#: about 150): a request with more is refused before pydantic spends 30-120 ms listing them.
MAX_FIELDS = 2_000


def _count_fields(data: Any) -> int:
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            count += len(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def too_many_fields(model: type[Contract], body: bytes) -> ErrorBody | None:
    """The cheap pre-check for a request stuffed with fields (20,000 unknown keys, say).

    Every field has a colon, so a body with few colons needs no parsing: ``bytes.count`` costs
    microseconds. Otherwise ``json`` parses it (a few ms for 256 KB) and its fields are counted.
    """
    if body.count(b":") <= MAX_FIELDS:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None  # pydantic reports the malformed or too deeply nested JSON
    count = _count_fields(data)
    if count <= MAX_FIELDS:
        return None
    known = model.model_fields  # a property: read it once, not once per key
    unknown = [key for key in data if key not in known] if isinstance(data, dict) else []
    details = [
        ErrorDetail(field=_cut(key, MAX_DETAIL_CHARS), message="Extra inputs are not permitted")
        for key in unknown[:MAX_DETAILS]
    ]
    return ErrorBody(
        code="validation_error",
        message=f"invalid request: {count:,} fields, more than any request has ({MAX_FIELDS:,})",
        details=_summarized(details, len(unknown), "unknown fields"),
    )


async def answer(
    model: type[M],
    body: bytes,
    handler: Callable[[M], Awaitable[Any]],
    outages: Outages | None = None,
    mongodb_until: float | None = None,
) -> bytes:
    """The reply to ``body``. With ``mongodb_until`` (a ``time.monotonic()``), a handler still running
    then is cancelled and answered 'unavailable' (slow, not an outage): for reads only."""
    try:
        if len(body) > MAX_REQUEST_BYTES:
            return _error(ErrorBody(code="validation_error", message=f"request over {MAX_REQUEST_BYTES} bytes"))
        refusal = too_many_fields(model, body)
        if refusal is not None:
            return _error(refusal)
        request = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        return _error(validation_error(exc))
    budget = None
    try:
        if mongodb_until is None:
            result = await handler(request)
        else:
            # Cancelled at the deadline, not PyMongo's own client-side timeout: that one retries a read
            # until its time is up, so an outage would cost the whole budget instead of a server
            # selection (MIGNET_MONGODB_TIMEOUT_MS).
            async with asyncio.timeout(max(0.001, mongodb_until - time.monotonic())) as budget:
                result = await handler(request)
    except TimeoutError as exc:  # ours, or another's (nats-py's is one too)
        if budget is not None and budget.expired():
            throttled.warning(f"{model.__name__}:slow", "%s: no answer within the request's time", model.__name__)
            return _error(
                ErrorBody(code="unavailable", message="no answer in time from the database; try again shortly")
            )
        if isinstance(exc, NATS_DOWN):
            return _nats_unavailable(model, exc)
        return _internal(model)
    except MignetError as exc:
        if exc.code in ("conflict", "unavailable", "internal"):
            throttled.warning(f"{model.__name__}:{exc.code}", "%s failed: %s", model.__name__, exc.message)
        return _error(exc.body())
    except ValidationError as exc:  # a domain-built event refused a value
        return _error(validation_error(exc))
    except PyMongoError as exc:
        if not mongodb_down(exc):
            return _internal(model)
        if outages is not None:
            outages.mongodb.failed(exc)
        else:
            throttled.warning("mongodb", "MongoDB did not answer: %s", describe(exc))
        return _error(ErrorBody(code="unavailable", message="the database did not answer; try again shortly"))
    except NATS_DOWN as exc:
        return _nats_unavailable(model, exc)
    except Exception:
        return _internal(model)
    if isinstance(result, BaseModel):
        # The bytes Reply(ok=True, result=result.model_dump(mode="json")) would give, without
        # converting the result to a dict and validating it again.
        return b'{"ok":true,"result":' + result.model_dump_json().encode() + b',"error":null}'
    return Reply(ok=True, result=result).model_dump_json().encode()


def _nats_unavailable(model: type[Contract], exc: BaseException) -> bytes:
    throttled.warning(f"{model.__name__}:nats", "%s: NATS did not answer: %s", model.__name__, describe(exc))
    return _error(ErrorBody(code="unavailable", message="the event store did not answer; try again shortly"))


def _internal(model: type[Contract]) -> bytes:
    log.exception("%s failed unexpectedly", model.__name__)
    return _error(ErrorBody(code="internal", message="internal error; the service log has the details"))


def _error(body: ErrorBody) -> bytes:
    return Reply(ok=False, error=capped(body)).model_dump_json().encode()


def fit(reply: bytes, max_payload: int, subject: str) -> bytes:
    """``reply``, or a short error when it is too large for the connection to send."""
    if len(reply) <= max_payload:
        return reply
    throttled.warning(
        f"too-large:{subject}",
        "%s: a reply of %d bytes is over the %d bytes NATS carries; answered with an error instead",
        subject,
        len(reply),
        max_payload,
    )
    return _error(
        ErrorBody(
            code="internal",
            message=f"the answer ({len(reply):,} bytes) is larger than a NATS message may be ({max_payload:,} bytes); "
            "ask for fewer items (a smaller limit)",
        )
    )


def decode_reply(data: bytes) -> Reply:
    return Reply.model_validate(json.loads(data))


@dataclass(frozen=True)
class Endpoint:
    subject: str
    queue: str
    model: type[Contract]
    handler: Callable[[Any], Awaitable[Any]]
    #: Reads only (queries, health): its MongoDB work is bounded by the request's deadline.
    bounded: bool = False


class BadTimeout(ValueError):
    pass


def deadline_of(headers: dict[str, str] | None, received: float) -> float | None:
    """The ``time.monotonic()`` after which the requester no longer waits, or None if it did not say."""
    if not headers:
        return None
    raw = headers.get(TIMEOUT_HEADER)
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_TIMEOUT_MS:
        raise BadTimeout(f"{TIMEOUT_HEADER} must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}")
    return received + int(raw) / 1000


class _Lane:
    """One endpoint's requests: at most ``workers`` under way, at most ``queue_limit`` waiting."""

    def __init__(self, server: EndpointServer, nc, endpoint: Endpoint):
        self.server = server
        self.nc = nc
        self.endpoint = endpoint
        self.active = 0
        #: (request, deadline, the connection it came on: see _send).
        self.waiting: deque[tuple[Any, float | None, int]] = deque()
        #: Moving average of how long a request takes here, for the retry hint.
        self.service_time = 0.01
        self.served = 0
        self.shed = 0
        self.expired = 0

    async def receive(self, msg) -> None:
        # nats-py awaits this before handing over the subscription's next message: it must not wait.
        try:
            deadline = deadline_of(msg.headers, time.monotonic())
        except BadTimeout as exc:
            await self._send(msg, _error(ErrorBody(code="validation_error", message=str(exc))))
            return
        server = self.server
        connection = self.nc.stats["reconnects"]
        if self.active < server.workers:
            self.active += 1
            task = asyncio.create_task(self._run(msg, deadline, connection))
            server._inflight.add(task)
            task.add_done_callback(server._inflight.discard)
        elif len(self.waiting) < server.queue_limit and not self._too_late(deadline):
            self.waiting.append((msg, deadline, connection))
        else:
            await self._refuse(msg)

    def expected_wait(self) -> float:
        """Seconds until a request queued now would start: those ahead of it, shared by the workers."""
        return (len(self.waiting) + 1) * self.service_time / self.server.workers

    def _too_late(self, deadline: float | None) -> bool:
        # Queued, it would wait longer than the queue's bound, or be answered after its client gave
        # up: better refuse it now, while the client still listens. (Only when every worker is busy: a
        # free worker always starts a request, so a slow endpoint is never starved of requests.)
        wait = self.expected_wait()
        if wait > self.server.max_wait:
            return True
        return deadline is not None and time.monotonic() + wait + self.service_time > deadline

    async def _run(self, msg, deadline: float | None, connection: int) -> None:
        try:
            while msg is not None:
                await self._serve(msg, deadline, connection)
                msg, deadline, connection = await self._next()
        finally:
            self.active -= 1

    async def _next(self):
        """The next waiting request that can still be answered in time.

        One whose client gave up is dropped unanswered; one whose client still waits but would,
        by the endpoint's recent pace, be answered too late is refused with a retry hint.
        """
        while self.waiting:
            msg, deadline, connection = self.waiting.popleft()
            now = time.monotonic()
            if deadline is None or now + self.service_time <= deadline:
                return msg, deadline, connection
            if now < deadline:
                await self._refuse(msg)
                continue
            self.expired += 1
            throttled.warning(
                f"expired:{self.endpoint.subject}",
                "%s: dropped a request whose client had given up before it could start (%d so far)",
                self.endpoint.subject,
                self.expired,
            )
        return None, None, 0

    async def _serve(self, msg, deadline: float | None, connection: int) -> None:
        started = time.monotonic()
        # A query stops a little before its client gives up: a hung MongoDB then costs an
        # 'unavailable' answer, not a worker held indefinitely.
        mongodb_until = None
        if self.endpoint.bounded:
            budget = (deadline - started) if deadline is not None else DEFAULT_QUERY_SECONDS
            mongodb_until = started + budget * BUDGET_SHARE
        try:
            try:
                with tracing.serving(self.endpoint.subject, msg.headers):
                    reply = await answer(
                        self.endpoint.model,
                        msg.data,
                        self.endpoint.handler,
                        self.server.outages,
                        mongodb_until=mongodb_until,
                    )
            except Exception:  # a bug in the layer above: still an answer, and the lane's worker survives
                reply = _internal(self.endpoint.model)
            if connection != self.nc.stats["reconnects"] or not self.nc.is_connected:
                # Received before NATS reconnected (a node lost), or NATS is reconnecting now (nats-py would
                # send the answer on the next connection): that server holds no permission to answer it
                # (allow_responses is per connection) and would log a violation. The client resends
                # with the same command id, which makes that safe.
                throttled.warning(
                    f"reconnected:{self.endpoint.subject}",
                    "%s: not answering requests received before NATS reconnected (their clients resend)",
                    self.endpoint.subject,
                )
                return
            await self._send(msg, fit(reply, self.nc.max_payload, self.endpoint.subject))
            if self.server.observer is not None:
                self.server.observer(self.endpoint.subject, reply, time.monotonic() - started)
        finally:
            elapsed = time.monotonic() - started
            # A moving average, seeded by the first request rather than by a guess.
            self.service_time = elapsed if self.served == 0 else self.service_time + 0.2 * (elapsed - self.service_time)
            self.served += 1

    async def _send(self, msg, reply: bytes) -> None:
        if not msg.reply:
            return
        try:
            await self.nc.publish(msg.reply, reply)
        except nats.errors.Error as exc:  # the connection is closing or gone: the requester retries
            log.warning("could not answer on %s: %r", self.endpoint.subject, exc)

    def retry_after_ms(self) -> int:
        """About how long the requests already queued will take to start."""
        return int(min(MAX_RETRY_MS, max(MIN_RETRY_MS, self.expected_wait() * 1000)))

    async def _refuse(self, msg) -> None:
        self.shed += 1
        throttled.warning(
            f"shed:{self.endpoint.subject}",
            "%s: busy (%d under way, %d queued); refusing requests with a retry hint (%d so far)",
            self.endpoint.subject,
            self.active,
            len(self.waiting),
            self.shed,
        )
        hint = self.retry_after_ms()
        reply = _error(
            ErrorBody(code="unavailable", message=f"the service is busy; try again in {hint} ms", retry_after_ms=hint)
        )
        await self._send(msg, reply)
        if self.server.observer is not None:
            self.server.observer(self.endpoint.subject, reply, None)


class EndpointServer:
    """Answers requests on each endpoint's subject: ``workers`` at a time per subject, up to
    ``queue_limit`` more waiting. A request is refused at once with a retry hint when the queue is
    full, or when, by the endpoint's recent pace, it would wait more than ``max_wait`` seconds to
    start or only be answered after its deadline."""

    def __init__(
        self, workers: int, queue_limit: int | None = None, outages: Outages | None = None, max_wait: float = 1.0
    ):
        self.workers = workers
        self.queue_limit = 4 * workers if queue_limit is None else queue_limit
        #: Seconds a request may be expected to wait in the queue before it starts; beyond that it is
        #: refused. Throughput at saturation is the same either way; what the bound buys is latency.
        self.max_wait = max_wait
        self.outages = outages if outages is not None else Outages()
        self.endpoints: list[Endpoint] = []
        #: Told of every reply: (subject, reply, seconds it took, or None for a refusal); metrics count them.
        self.observer: Callable[[str, bytes, float | None], None] | None = None
        self.lanes: dict[str, _Lane] = {}
        self._subs: list = []
        self._inflight: set[asyncio.Task] = set()

    def add(self, endpoint: Endpoint) -> None:
        self.endpoints.append(endpoint)

    async def start(self, nc) -> None:
        for endpoint in self.endpoints:
            lane = self.lanes[endpoint.subject] = _Lane(self, nc, endpoint)
            self._subs.append(await nc.subscribe(endpoint.subject, queue=endpoint.queue, cb=lane.receive))

    async def stop(self, timeout: float) -> None:
        """Stop taking requests, answer the ones received, and wait up to ``timeout`` for them."""
        subs, self._subs = self._subs, []
        try:
            await asyncio.wait_for(asyncio.gather(*(sub.drain() for sub in subs), return_exceptions=True), timeout)
        except TimeoutError:
            log.warning("requests still queued after %.0fs; dropping them", timeout)
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=timeout)
            for task in pending:
                task.cancel()
