"""Attempt outcomes, written together: one journaled bulk write for all that ended in the same moment."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from mignet_notifier import deliveries as d

log = logging.getLogger(__name__)
#: Outcomes are written together, at most this long after the first of them.
FLUSH_SECONDS = 0.01


def _log_failed(done: asyncio.Future) -> None:
    if not done.cancelled() and done.exception() is not None:
        # The delivery stays claimed, and goes again (same webhook-id) when the claim runs out.
        log.warning("could not record a delivery outcome: %r", done.exception())


class OutcomeWriter:
    def __init__(self, db: AsyncDatabase, on_recorded: Callable[[], None] | None = None):
        self.db = db
        self._pending: list[tuple[UpdateOne, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        #: Outcomes queued or being written: attempts that ended and could go again after a crash.
        self.unrecorded = 0
        self._on_recorded = on_recorded

    def write(self, operation: UpdateOne) -> asyncio.Future:
        """Queues an outcome; the future is done once it is journaled (the delivery stays claimed till then)."""
        done = asyncio.get_running_loop().create_future()
        done.add_done_callback(_log_failed)
        done.add_done_callback(self._recorded)
        self.unrecorded += 1
        self._pending.append((operation, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        return done

    async def _flush(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await d.collection(self.db).bulk_write([op for op, _ in batch], ordered=False)
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    def _recorded(self, done: asyncio.Future) -> None:
        self.unrecorded -= 1
        if self._on_recorded is not None:
            self._on_recorded()

    async def drain(self, timeout: float) -> None:
        """Writes what is queued (a stop): what is not written in time goes again after its claim."""
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=timeout)
