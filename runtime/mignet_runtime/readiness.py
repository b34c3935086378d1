"""Is this replica ready to do its work? The checks behind ``/readyz``, ``mignet status`` and ``mignet_ready``.

A replica is ready when it has started, its NATS connection is up, its stream
exists, every projection consumer it is meant to run is consuming (a standby or
a ``commands`` replica runs none, and that is fine), and MongoDB answers. Each
check says what failed in words an operator can act on; the checks run
concurrently and each is bounded by :data:`CHECK_SECONDS`, so a hung
dependency costs a failed check, not a hung probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nats.errors
from nats.js.errors import NotFoundError
from pymongo.errors import PyMongoError

from mignet_runtime.mongo_access import refusal
from mignet_runtime.outages import describe

if TYPE_CHECKING:
    from mignet_runtime.service import ServiceRuntime

#: Longest a single check may take; a dependency slower than that counts as not answering.
CHECK_SECONDS = 2.0
CHECKS = ("started", "nats", "stream", "consumers", "mongodb")


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail}


async def readiness(runtime: ServiceRuntime) -> dict:
    """``{"service", "ready", "checks": {name: {"ok", "detail"}}}``; ``ready`` only if every check is ok."""
    service = runtime.spec.name
    if not runtime.ready.is_set():
        detail = runtime.startup_detail or "waiting for NATS, MongoDB and the stream"
        checks = {"started": Check(False, f"starting: {detail}")}
    else:
        nats_check = _nats(runtime)
        results = await asyncio.gather(
            _bounded(_stream(runtime), "the stream") if nats_check.ok else _skipped(),
            _bounded(_consumers(runtime), "the consumers") if nats_check.ok else _skipped(),
            _bounded(_mongodb(runtime), "MongoDB"),
        )
        checks = {"started": Check(True, "started"), "nats": nats_check}
        checks.update(zip(("stream", "consumers", "mongodb"), results, strict=True))
    return {
        "service": service,
        "ready": all(c.ok for c in checks.values()),
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }


async def _skipped() -> Check:
    return Check(False, "not checked: NATS is disconnected")


async def _bounded(check: Awaitable[Check], what: str) -> Check:
    try:
        return await asyncio.wait_for(check, CHECK_SECONDS)
    except TimeoutError:
        return Check(False, f"{what} did not answer within {CHECK_SECONDS:.0f}s")


def _nats(runtime: ServiceRuntime) -> Check:
    nc = runtime.nc
    url = nc.connected_url
    if nc.is_connected and url is not None:
        return Check(True, f"connected to {url.hostname}:{url.port}")  # never the URL's user:password@
    return Check(False, "disconnected from NATS (reconnecting)")


async def _stream(runtime: ServiceRuntime) -> Check:
    store = runtime.store
    try:
        info = await store.js.stream_info(store.stream)
    except NotFoundError:
        return Check(False, f"stream {store.stream} does not exist: run `mignet admin provision`")
    except nats.errors.Error as exc:
        return Check(False, f"stream {store.stream}: {describe(exc)}")
    return Check(True, f"{store.stream}: {info.state.messages} messages, last #{info.state.last_seq}")


async def _consumers(runtime: ServiceRuntime) -> Check:
    if not runtime.settings.runs_projections:
        return Check(True, "none: this replica runs no projections (MIGNET_ROLE=commands)")
    if not runtime.holds_lease:
        return Check(True, "none: standing by while another replica holds the projection lease")
    problems: list[str] = []
    for runner in list(runtime.runners.values()):
        if not runner.consuming:
            reason = runner.stats.errors[-1] if runner.stats.errors else "starting"
            problems.append(f"{runner.durable} is not consuming ({reason})")
            continue
        try:
            await runner.store.js.consumer_info(runner.store.stream, runner.durable)
        except NotFoundError:
            problems.append(f"{runner.durable} does not exist on {runner.store.stream}")
        except nats.errors.Error as exc:
            problems.append(f"{runner.durable}: {describe(exc)}")
    if problems:
        return Check(False, "; ".join(problems))
    return Check(True, f"{len(runtime.runners)} consuming: {', '.join(r.durable for r in runtime.runners.values())}")


async def _mongodb(runtime: ServiceRuntime) -> Check:
    try:
        await runtime.mongo.admin.command("ping")
    except PyMongoError as exc:
        return Check(False, refusal(exc) or f"MongoDB did not answer: {describe(exc)}")
    return Check(True, "answers")
