"""What the lease holder knows of each projection: checkpoint, lag in events and seconds, parked, redeliveries.

One function for ``<service>.admin.projections.status`` (and so ``mignet status``) and
for the projection gauges of :mod:`mignet_runtime.metrics`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import nats.errors
from nats.js.errors import NotFoundError
from pymongo.errors import PyMongoError

from mignet_runtime.codec import recorded_at
from mignet_runtime.projection import CHECKPOINTS, PARKED, ProjectionRunner

if TYPE_CHECKING:
    from mignet_runtime.service import ServiceRuntime

#: How long the checkpoint and parked counts may take: a hung MongoDB must not hide the lag.
MONGODB_SECONDS = 2.0


async def projection_rows(runtime: ServiceRuntime) -> list[dict]:
    """What the lease holder knows of each projection: checkpoint, lag (events and seconds), parked.

    Answers ``<service>.admin.projections.status`` and feeds the gauges above. The lag comes from
    JetStream alone, so it is known while MongoDB is down (when it matters most); ``applied_seq``
    and ``parked`` are then None, and so is ``pending`` while the runner (re)creates its consumer.
    """
    return list(await asyncio.gather(*(_row(runtime, runner) for runner in list(runtime.runners.values()))))


async def _row(runtime: ServiceRuntime, runner: ProjectionRunner) -> dict:
    name = runner.projection.name
    row: dict = {
        "projection": name,
        "consumer": runner.durable,
        "stream": runner.store.stream,
        "subjects": runner.projection.subject_filter,
        "applied_seq": None,
        "stream_last_seq": await runner.store.last_seq(),
        "pending": None,
        "lag_seconds": None,
        "redelivered": None,
        "parked": None,
    }
    try:
        info = await runner.store.js.consumer_info(runner.store.stream, runner.durable)
    except NotFoundError:
        pass
    else:
        # Events on the projection's own subjects not yet applied: the stream's last
        # sequence alone would count other subjects' events as lag.
        row["pending"] = pending = info.num_pending + info.num_ack_pending
        row["redelivered"] = info.num_redelivered
        row["lag_seconds"] = await _oldest_unapplied_age(runner, info.ack_floor.stream_seq) if pending else 0.0
    try:
        async with asyncio.timeout(MONGODB_SECONDS):
            checkpoint = await runtime.db[CHECKPOINTS].find_one({"_id": name}) or {}
            row["applied_seq"] = checkpoint.get("seq", 0)
            row["parked"] = await runtime.db[PARKED].count_documents({"projection": name})
    except (PyMongoError, TimeoutError):
        pass  # MongoDB is down or hung: readiness says so, and the lag above is still true
    return row


async def _oldest_unapplied_age(runner: ProjectionRunner, acked: int | None) -> float | None:
    """Seconds since the first event after the acknowledged ones, on the projection's subjects, was recorded."""
    store = runner.store
    try:
        msg = await store.js.get_msg(
            store.stream, seq=(acked or 0) + 1, subject=runner.projection.subject_filter, next=True, direct=True
        )
    except NotFoundError:
        return 0.0
    except nats.errors.Error:
        return None
    return round(max(0.0, (datetime.now(UTC) - recorded_at(msg.headers or {})).total_seconds()), 3)
