"""Request-reply endpoints: bytes in, a validated contract to the handler, a Reply out.

Every failure becomes a structured reply (``code``, ``message``, per-field
``details``); nothing is written when validation or a rule fails.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import nats.errors
from pydantic import BaseModel, ValidationError

from mignet_contracts.envelope import Contract, ErrorBody, ErrorDetail, Reply
from mignet_runtime.errors import MignetError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Contract)
#: A request larger than this is refused before parsing.
MAX_REQUEST_BYTES = 256 * 1024


def validation_error(exc: ValidationError) -> ErrorBody:
    details = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error.get("loc", ()))
        message = error.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        details.append(ErrorDetail(field=location or None, message=message))
    summary = "; ".join(f"{d.field}: {d.message}" if d.field else d.message for d in details[:5])
    return ErrorBody(code="validation_error", message=f"invalid request: {summary}", details=details)


async def answer(model: type[M], body: bytes, handler: Callable[[M], Awaitable[Any]]) -> bytes:
    try:
        if len(body) > MAX_REQUEST_BYTES:
            return _error(ErrorBody(code="validation_error", message=f"request over {MAX_REQUEST_BYTES} bytes"))
        request = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        return _error(validation_error(exc))
    try:
        result = await handler(request)
    except MignetError as exc:
        if exc.code in ("conflict", "unavailable", "internal"):
            log.warning("%s failed: %s", model.__name__, exc.message)
        return _error(exc.body())
    except ValidationError as exc:  # a domain-built event refused a value
        return _error(validation_error(exc))
    except Exception:
        log.exception("%s failed unexpectedly", model.__name__)
        return _error(ErrorBody(code="internal", message="internal error; the service log has the details"))
    if isinstance(result, BaseModel):
        # The bytes Reply(ok=True, result=result.model_dump(mode="json")) would give, without
        # converting the result to a dict and validating it again.
        return b'{"ok":true,"result":' + result.model_dump_json().encode() + b',"error":null}'
    return Reply(ok=True, result=result).model_dump_json().encode()


def _error(body: ErrorBody) -> bytes:
    return Reply(ok=False, error=body).model_dump_json().encode()


def decode_reply(data: bytes) -> Reply:
    return Reply.model_validate(json.loads(data))


@dataclass(frozen=True)
class Endpoint:
    subject: str
    queue: str
    model: type[Contract]
    handler: Callable[[Any], Awaitable[Any]]


class EndpointServer:
    """Answers requests on each endpoint's subject, at most ``workers`` at a time per subject."""

    def __init__(self, workers: int):
        self.workers = workers
        self.endpoints: list[Endpoint] = []
        self._subs: list = []
        self._inflight: set[asyncio.Task] = set()

    def add(self, endpoint: Endpoint) -> None:
        self.endpoints.append(endpoint)

    async def start(self, nc) -> None:
        for endpoint in self.endpoints:
            receiver = self._receiver(nc, endpoint)
            self._subs.append(await nc.subscribe(endpoint.subject, queue=endpoint.queue, cb=receiver))

    def _receiver(self, nc, endpoint: Endpoint) -> Callable[[Any], Awaitable[None]]:
        slots = asyncio.Semaphore(self.workers)

        async def serve(msg) -> None:
            try:
                reply = await answer(endpoint.model, msg.data, endpoint.handler)
                if msg.reply:
                    await nc.publish(msg.reply, reply)
            except nats.errors.Error as exc:  # the connection is closing or gone: the requester retries
                log.warning("could not answer on %s: %r", endpoint.subject, exc)
            finally:
                slots.release()

        async def receive(msg) -> None:
            # nats-py awaits this before the next message of the subscription, so a full
            # set of slots holds the rest in the subscription's pending queue.
            await slots.acquire()
            task = asyncio.create_task(serve(msg))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

        return receive

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
