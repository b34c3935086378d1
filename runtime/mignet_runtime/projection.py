"""Read models projected from a stream into MongoDB.

A :class:`Projection` is pure: ``key(event)`` names the document an event
touches and ``apply(doc, event)`` returns the new document. The
:class:`ProjectionRunner` feeds it from a durable JetStream pull consumer:

* each fetched batch is applied in stream order and coalesced, so a document
  touched by many events is written once;
* every document records the sequence of the last event applied to it
  (``_seq``), so a redelivered event is never applied twice;
* messages are acknowledged only after the write; a failed write is nacked
  with a delay and retried without limit (MongoDB will come back);
* an event the projection cannot apply is retried ``max_attempts`` times and
  then parked in ``_parked`` with an ERROR log, so one bad event cannot stall
  the read model forever;
* ``max_ack_pending`` equals the batch size, so nothing newer is delivered
  while a failed batch waits for redelivery, which keeps the order.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pymongo import ReplaceOne, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from mignet_runtime.codec import EventCodec, MalformedEvent, RecordedEvent, UnknownEventType
from mignet_runtime.eventstore import EventStore

log = logging.getLogger(__name__)

Doc = dict[str, Any]
PARKED = "_parked"
JOURNALED = WriteConcern(w=1, j=True)
CHECKPOINTS = "_projections"


@dataclass(frozen=True)
class Projection:
    name: str
    collection: str
    #: One subject filter on the source stream, e.g. ``registry.events.network.>``.
    subject_filter: str
    key: Callable[[RecordedEvent], str | None]
    apply: Callable[[Doc | None, RecordedEvent], Doc | None]
    indexes: tuple[tuple[str, ...], ...] = ()


def fold(projection: Projection, events: Iterable[RecordedEvent], docs: dict[str, Doc] | None = None) -> dict[str, Doc]:
    """Apply events in memory: the same code path as the runner, without a database."""
    docs = {} if docs is None else docs
    for recorded in events:
        _apply_one(projection, docs, recorded)
    return docs


def _apply_one(projection: Projection, docs: dict[str, Doc], recorded: RecordedEvent) -> bool:
    key = projection.key(recorded)
    if key is None:
        return False
    current = docs.get(key)
    if current is not None and current.get("_seq", 0) >= recorded.seq:
        return False  # already applied: a redelivery
    updated = projection.apply(copy.deepcopy(current) if current else None, recorded)
    if updated is None:
        return False
    updated["_id"] = key
    updated["_seq"] = recorded.seq
    docs[key] = updated
    return True


@dataclass
class RunnerStats:
    applied: int = 0
    skipped: int = 0
    parked: int = 0
    batches: int = 0
    last_seq: int = 0
    errors: list[str] = field(default_factory=list)


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        db: AsyncDatabase,
        projection: Projection,
        *,
        consumer_prefix: str,
        batch_size: int = 500,
        max_attempts: int = 5,
        retry_delay: float = 2.0,
        fetch_timeout: float = 1.0,
    ):
        self.store = store
        self.codec: EventCodec = store.codec
        self.db = db
        self.projection = projection
        self.durable = f"{consumer_prefix}-{projection.name}"
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.fetch_timeout = fetch_timeout
        self.stats = RunnerStats()
        self._lock = asyncio.Lock()  # a rebuild pauses the live loop
        self._stopping = asyncio.Event()
        self._sub = None

    @property
    def collection(self):
        # Acknowledged means journaled: the event is acked to JetStream right after this write.
        return self.db.get_collection(self.projection.collection, write_concern=JOURNALED)

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            description=f"projection {self.projection.name} into {self.db.name}.{self.projection.collection}",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            filter_subject=self.projection.subject_filter,
            ack_wait=60,
            max_deliver=-1,
            max_ack_pending=self.batch_size,
        )

    async def setup(self) -> None:
        for fields in self.projection.indexes:
            await self.collection.create_index([(f, 1) for f in fields])
        await self.store.js.add_consumer(self.store.stream, self.consumer_config())
        self._sub = await self.store.js.pull_subscribe_bind(durable=self.durable, stream=self.store.stream)

    async def run(self) -> None:
        if self._sub is None:
            await self.setup()
        log.info("projection %s consuming %s as %s", self.projection.name, self.projection.subject_filter, self.durable)
        try:
            await self._loop()
        finally:
            sub, self._sub = self._sub, None
            if sub is not None:
                try:
                    await sub.unsubscribe()
                except nats.errors.Error:
                    pass  # the connection is already closing

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = await self._sub.fetch(self.batch_size, timeout=self.fetch_timeout)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.DrainTimeoutError):
                if self._stopping.is_set():
                    return
                raise
            except NotFoundError:
                log.warning("consumer %s vanished; recreating it", self.durable)
                await self.setup()
                continue
            except nats.errors.Error as exc:
                if self._stopping.is_set():
                    return
                log.warning("projection %s fetch failed: %s; retrying", self.projection.name, exc)
                await asyncio.sleep(self.retry_delay)
                continue
            async with self._lock:
                await self.handle(messages)

    def stop(self) -> None:
        self._stopping.set()

    # -- one batch ------------------------------------------------------
    async def handle(self, messages: list) -> None:
        if not messages:
            return
        messages = sorted(messages, key=lambda m: m.metadata.sequence.stream)
        decoded: list[tuple[Any, RecordedEvent | None]] = []
        for msg in messages:
            try:
                decoded.append((msg, self.codec.decode(msg.metadata.sequence.stream, msg.subject, msg.headers, msg.data)))
            except UnknownEventType:
                decoded.append((msg, None))
            except MalformedEvent as exc:
                decoded.append((msg, _Broken(str(exc))))

        keys = {self.projection.key(r) for _, r in decoded if isinstance(r, RecordedEvent)} - {None}
        try:
            docs = {d["_id"]: d for d in await self.collection.find({"_id": {"$in": list(keys)}}).to_list(None)} if keys else {}
        except PyMongoError as exc:
            return await self._retry_all(messages, f"reading {self.projection.collection} failed: {exc}")

        dirty: set[str] = set()
        parked: list[tuple[Any, RecordedEvent | None, str]] = []
        for msg, recorded in decoded:
            if recorded is None:
                self.stats.skipped += 1
                continue
            try:
                if isinstance(recorded, _Broken):
                    raise ValueError(recorded.reason)
                if _apply_one(self.projection, docs, recorded):
                    dirty.add(self.projection.key(recorded))
                    self.stats.applied += 1
                else:
                    self.stats.skipped += 1
            except Exception as exc:  # a projection bug or a bad event: bounded retries, then park
                attempts = msg.metadata.num_delivered
                if attempts < self.max_attempts:
                    log.warning(
                        "projection %s could not apply %s #%d (attempt %d of %d): %s; redelivering the batch",
                        self.projection.name, msg.subject, msg.metadata.sequence.stream, attempts, self.max_attempts, exc,
                    )
                    return await self._retry_all(messages, str(exc), quiet=True)
                parked.append((msg, recorded if isinstance(recorded, RecordedEvent) else None, repr(exc)))

        try:
            if dirty:
                await self.collection.bulk_write(
                    [ReplaceOne({"_id": k}, docs[k], upsert=True) for k in dirty], ordered=False
                )
            for msg, _, reason in parked:
                await self._park(msg, reason)
            last = messages[-1].metadata.sequence.stream
            await self.db.get_collection(CHECKPOINTS, write_concern=JOURNALED).update_one(
                {"_id": self.projection.name},
                {"$max": {"seq": last}, "$set": {"updated_at": datetime.now(UTC)}},
                upsert=True,
            )
        except PyMongoError as exc:
            return await self._retry_all(messages, f"writing {self.projection.collection} failed: {exc}")
        for msg in messages:
            await msg.ack()
        self.stats.batches += 1
        self.stats.last_seq = max(self.stats.last_seq, messages[-1].metadata.sequence.stream)

    async def _retry_all(self, messages: list, reason: str, quiet: bool = False) -> None:
        if not quiet:
            log.warning("projection %s: %s; redelivering %d events in %.1fs",
                        self.projection.name, reason, len(messages), self.retry_delay)
        self.stats.errors.append(reason)
        del self.stats.errors[:-20]
        for msg in messages:
            await msg.nak(delay=self.retry_delay)

    async def _park(self, msg, reason: str) -> None:
        seq = msg.metadata.sequence.stream
        log.error(
            "PARKED: projection %s gave up on %s #%d after %d attempts: %s. The read model skips it; "
            "inspect %s.%s and rebuild once fixed.",
            self.projection.name, msg.subject, seq, msg.metadata.num_delivered, reason, self.db.name, PARKED,
        )
        await self.db.get_collection(PARKED, write_concern=JOURNALED).replace_one(
            {"_id": f"{self.projection.name}:{seq}"},
            {
                "_id": f"{self.projection.name}:{seq}",
                "projection": self.projection.name,
                "stream": self.store.stream,
                "seq": seq,
                "subject": msg.subject,
                "headers": dict(msg.headers or {}),
                "data": msg.data.decode("utf-8", "replace"),
                "reason": reason,
                "attempts": msg.metadata.num_delivered,
                "parked_at": datetime.now(UTC),
            },
            upsert=True,
        )
        self.stats.parked += 1

    # -- rebuild --------------------------------------------------------
    async def rebuild(self, progress: Callable[[int, int], Any] | None = None, chunk: int = 1000) -> int:
        """Recompute the read model from the start of the stream and swap it in.

        The live loop is paused meanwhile; events it has not acknowledged yet
        are redelivered afterwards and skipped by ``_seq``, so nothing is lost.
        """
        async with self._lock:
            up_to = await self.store.last_seq()
            docs = await fold_stream(self.store, self.projection, up_to, progress)
            shadow = f"{self.projection.collection}__rebuild"
            await self.db.drop_collection(shadow)
            values = list(docs.values())
            for start in range(0, len(values), chunk):
                await self.db[shadow].insert_many(values[start:start + chunk], ordered=False)
            if values:
                await self.db.client.admin.command(
                    "renameCollection", f"{self.db.name}.{shadow}",
                    to=f"{self.db.name}.{self.projection.collection}", dropTarget=True,
                )
            else:
                await self.db.drop_collection(self.projection.collection)
            for fields in self.projection.indexes:
                await self.collection.create_index([(f, 1) for f in fields])
            await self.db[CHECKPOINTS].update_one(
                {"_id": self.projection.name},
                {"$set": {"seq": up_to, "rebuilt_at": datetime.now(UTC)}},
                upsert=True,
            )
            log.info("rebuilt %s: %d documents from %d stream messages", self.projection.collection, len(values), up_to)
            return len(values)


async def fold_stream(
    store: EventStore,
    projection: Projection,
    up_to_seq: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    include: Callable[[RecordedEvent], bool] | None = None,
) -> dict[str, Doc]:
    """The read model as it would be after ``up_to_seq``, computed in memory."""
    docs: dict[str, Doc] = {}
    total = up_to_seq if up_to_seq is not None else await store.last_seq()
    async for recorded in store.read(projection.subject_filter, 0, total):
        if include is None or include(recorded):
            _apply_one(projection, docs, recorded)
        if progress is not None:
            progress(recorded.seq, total)
    if progress is not None:
        progress(total, total)
    return docs


@dataclass(frozen=True)
class _Broken:
    reason: str
