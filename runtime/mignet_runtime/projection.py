"""Read models projected from a stream into MongoDB.

A :class:`Projection` is pure: ``key(event)`` names the document an event
touches and ``apply(doc, event)`` returns the new document. The
:class:`ProjectionRunner` feeds it from a durable JetStream pull consumer:

* each fetched batch is applied in stream order and coalesced, so a document
  touched by many events is written once, with journaled writes; the next
  batch is fetched and decoded meanwhile (see :mod:`mignet_runtime.pull`);
* the runner knows the id of every document (up to ``KNOWN_IDS_LIMIT``), so
  an event starting a new document needs no read, and new documents are
  inserted rather than upserted (several times cheaper on SecantusDB);
* every document records the sequence of the last event applied to it
  (``_seq``), so a redelivered event is never applied twice;
* after the documents, a checkpoint records that every event up to the
  batch's last sequence is applied; only then are the messages acknowledged;
* on any failure nothing is acknowledged and the consumer is *reset* to the
  checkpoint after a delay, so events are redelivered in order (a plain nak
  would let later events overtake the failed one, and the ``_seq`` check
  would then drop it). The same happens at every start, which also makes a
  dropped read model rebuild itself;
* an event the projection cannot apply is retried ``max_attempts`` times and
  then parked in ``_parked`` with an ERROR log, so one bad event cannot stall
  the read model forever.

**One writer per projection, fenced.** A service's replicas compete for a
lease (:mod:`mignet_runtime.lease`) and only the holder runs the runners; the
lease's fencing token ``T`` (a KV revision: a later holder has a larger one)
guards every write:

* the holder checks its local lease deadline before every fetch and every
  write, and stops (:class:`~mignet_runtime.lease.LeaseLost`) once it passed;
* at every (re)start the runner first raises the checkpoint's ``_fence`` to
  ``T``, with a filter ``_fence <= T`` (an upsert, so a newer fence makes it fail
  on the duplicate ``_id``), and only then recreates the consumer;
* every document write is conditional the same way: a replace filters on
  ``_fence <= T`` and sets ``_fence = T``; an insert fails on a duplicate key;
  the checkpoint update filters on ``_fence <= T``.

Why a stale holder (token ``S < T``, paused between its check and its write)
cannot corrupt a read model: a document's ``_fence`` only ever grows, so once
the new holder wrote a document, the stale one's writes to it fail, and so
does its checkpoint once the new holder started (it bumped the fence before
anything else). What the stale holder can still write are documents the new
holder has not written yet. Those hold what the stale holder (or an older
one) wrote, and the stale holder's batch is an in-order fold of the events
after them, so the write is a correct fold up to some sequence ``s``. The new
holder delivers again from the checkpoint, which the stale holder could not
advance: if it read the document before the stale write, it applies every
event the stale holder applied and overwrites it; if after, ``_seq`` makes it
skip exactly those. Either way the result equals a fresh fold. A failed write
raises, nothing is acknowledged, and the stale runner stops at its next check.

A stale holder could also *pull* from the shared durable consumer after the
takeover (its check passed, then it was paused) and take messages the new
holder then never sees; with ``AckPolicy.ALL`` the new holder's next ack would
cover them. The consumer sequence of a fresh consumer counts every delivery
from 1 without holes (checked against nats-server 2.14: a redelivery after
``ack_wait`` gets the next consumer sequence too, and messages another puller
took leave a hole), so the runner checks that the deliveries it gets are
contiguous and resets its consumer from the checkpoint when they are not. The
new holder also recreates the consumer at takeover, which ends the pull
requests the old one had waiting.

A runner built without a lease (tests, benchmarks, tools) writes no fences
and trusts the caller to run it alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pymongo import InsertOne, ReplaceOne, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from mignet_runtime import logs, tracing
from mignet_runtime.codec import EventCodec, MalformedEvent, RecordedEvent, UnknownEventType
from mignet_runtime.eventstore import EventStore
from mignet_runtime.lease import Lease, LeaseLost
from mignet_runtime.outages import describe
from mignet_runtime.pull import PullConsumer

log = logging.getLogger(__name__)

Doc = dict[str, Any]
PARKED = "_parked"


def journaled(db: AsyncDatabase) -> WriteConcern:
    """Acknowledged means journaled, and acknowledged by as many members as MONGODB_URL asks:
    ``w=majority`` on a replica set, so a failover never rolls back a read model or its checkpoint. The URL's
    other write-concern options (``wtimeoutMS``) hold too."""
    return WriteConcern(**{"w": 1, **db.write_concern.document, "j": True})


CHECKPOINTS = "_projections"
#: Up to this many documents a runner keeps their ids in memory (a few tens of MB at most).
KNOWN_IDS_LIMIT = 200_000
#: The fencing token a document was last written under (internal, like ``_seq``; queries hide it).
FENCE = "_fence"


def fenced(token: int | None, selector: dict) -> dict:
    """``selector``, restricted to documents no newer holder wrote (missing fence: never fenced)."""
    return selector if token is None else {**selector, FENCE: {"$not": {"$gt": token}}}


def internal_fields_stripped(doc: Doc) -> Doc:
    """A read-model document without the runner's fence, to compare it with a fold."""
    return {k: v for k, v in doc.items() if k != FENCE}


@dataclass(frozen=True)
class Projection:
    name: str
    collection: str
    #: One subject filter on the source stream, e.g. ``registry.events.network.>``.
    subject_filter: str
    key: Callable[[RecordedEvent], str | None]
    apply: Callable[[Doc | None, RecordedEvent], Doc | None]
    indexes: tuple[tuple[str, ...], ...] = ()
    #: At most one checkpoint write per this many seconds (0: one per batch). Each journaled write is a
    #: queue an event waits in at a steady rate; fewer of them cost only this: a restart applies again what
    #: came after the checkpoint written last (``_seq`` makes that a no-op), and the checkpoint in MongoDB
    #: (status, other replicas) is behind by up to this long, or the runner's fetch wait when idle. The
    #: runner's own ``applied_seq`` (what the same process reads) moves with every batch.
    checkpoint_seconds: float = 0.0


def fold(projection: Projection, events: Iterable[RecordedEvent], docs: dict[str, Doc] | None = None) -> dict[str, Doc]:
    """Apply events in memory: the same code path as the runner, without a database."""
    docs = {} if docs is None else docs
    for recorded in events:
        _apply_one(projection, docs, recorded)
    return docs


def _apply_one(projection: Projection, docs: dict[str, Doc], recorded: RecordedEvent) -> str | None:
    """Applies ``recorded`` to its document in ``docs``; the key of the document it changed, or None."""
    key = projection.key(recorded)
    if key is None:
        return None
    current = docs.get(key)
    if current is not None and current.get("_seq", 0) >= recorded.seq:
        return None  # already applied: a redelivery
    # No copy: a batch whose apply fails is thrown away whole, never written.
    updated = projection.apply(current, recorded)
    if updated is None:
        return None
    updated["_id"] = key
    updated["_seq"] = recorded.seq
    docs[key] = updated
    return key


@dataclass(frozen=True)
class Writing:
    """A batch as it is written: every document of the events after ``after`` (the checkpoint before the
    batch) up to ``last``, written by it or already there."""

    after: int
    last: int
    docs: list[Doc]


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
        lease: Lease | None = None,
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
        self._puller: PullConsumer | None = None
        #: Bumped by every (re)created consumer: a batch fetched from an older one is dropped.
        self._generation = 0
        self._applied = 0  # the checkpoint: every event up to here is in the read model
        #: A checkpoint not written yet (``Projection.checkpoint_seconds``), and when the next write is due.
        self._unwritten: int | None = None
        self._checkpoint_due = 0.0
        self._failures: dict[int, int] = {}
        #: Every document id in the collection, while it has at most KNOWN_IDS_LIMIT: an event
        #: on an id not in it starts a new document without reading the collection first.
        #: None means not known; reloaded by every setup(), so a reset or rebuild starts afresh.
        self._known: set[str] | None = None
        #: Without a lease the runner writes no fences (it trusts its caller to run it alone).
        self.lease = lease
        self._token: int | None = None
        #: True while its consumer is set up and it fetches from it (readiness: not while resetting).
        self.consuming = False
        #: The consumer sequence of the last delivery taken from the current consumer; a hole
        #: after it means someone else pulled from our durable consumer.
        self._delivered: int | None = None
        #: Called after each batch is written and checkpointed (in the event loop, must not block): a
        #: consumer of the read model in the same process wakes at once instead of polling it.
        self.on_batch: Callable[[], None] | None = None
        #: Awaited with each batch while it is written, before its checkpoint: a consumer of the read model in
        #: the same process acts on the batch without reading it back after the checkpoint. It must not change
        #: the documents; its errors are logged and ignored (the batch is written all the same).
        self.on_writing: Callable[[Writing], Awaitable[None]] | None = None

    def _ensure_held(self) -> None:
        """Before every fetch and write: a replica whose lease may have expired does nothing."""
        if self.lease is not None and not self.lease.held():
            raise LeaseLost(f"projection {self.projection.name}: the lease expired")

    def _stamp(self, doc: Doc) -> Doc:
        if self._token is not None:
            doc[FENCE] = self._token
        return doc

    @property
    def collection(self):
        # Acknowledged means journaled: the event is acked to JetStream right after this write.
        return self.db.get_collection(self.projection.collection, write_concern=journaled(self.db))

    def consumer_config(self, after_seq: int) -> ConsumerConfig:
        start = (
            {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": after_seq + 1}
            if after_seq
            else {"deliver_policy": DeliverPolicy.ALL}
        )
        return ConsumerConfig(
            durable_name=self.durable,
            description=f"projection {self.projection.name} into {self.db.name}.{self.projection.collection}",
            # Batches are applied in order, so acknowledging the last message covers the batch.
            ack_policy=AckPolicy.ALL,
            filter_subject=self.projection.subject_filter,
            ack_wait=120,
            max_deliver=-1,
            # The batch being written and the one fetched meanwhile.
            max_ack_pending=2 * self.batch_size,
            **start,
        )

    @property
    def applied_seq(self) -> int:
        """The checkpoint as this runner last wrote (or, at setup, read) it, without a round trip."""
        return self._applied

    async def checkpoint(self) -> dict:
        return await self.db[CHECKPOINTS].find_one({"_id": self.projection.name}) or {"seq": 0}

    async def setup(self) -> None:
        """(Re)create the consumer so delivery starts right after the checkpoint."""
        await self._unsubscribe()
        if self.lease is not None:
            await self._raise_fence(self.lease)
        for fields in self.projection.indexes:
            await self.collection.create_index([(f, 1) for f in fields])
        self._applied = (await self.checkpoint()).get("seq", 0)
        self._unwritten = None
        self._known = await self._load_ids()
        try:
            await self.store.js.delete_consumer(self.store.stream, self.durable)
        except NotFoundError:
            pass
        await self.store.js.add_consumer(self.store.stream, self.consumer_config(self._applied))
        puller = PullConsumer(self.store.nc, self.store.stream, self.durable)
        await puller.start()
        self._puller = puller
        self._delivered = 0
        self._generation += 1
        self.consuming = True

    async def _raise_fence(self, lease: Lease) -> None:
        """First thing a (new) holder does: from now on a stale holder's checkpoint writes fail."""
        self._ensure_held()
        self._token = lease.fencing_token()
        try:
            await self.db.get_collection(CHECKPOINTS, write_concern=journaled(self.db)).update_one(
                fenced(self._token, {"_id": self.projection.name}),
                {"$set": {FENCE: self._token}, "$setOnInsert": {"seq": 0}},
                upsert=True,
            )
        except DuplicateKeyError as exc:
            raise LeaseLost(f"projection {self.projection.name}: a newer holder's fence is in the checkpoint") from exc

    async def _load_ids(self) -> set[str] | None:
        ids = [d["_id"] async for d in self.collection.find({}, {"_id": 1}).limit(KNOWN_IDS_LIMIT + 1)]
        return set(ids) if len(ids) <= KNOWN_IDS_LIMIT else None

    async def run(self) -> None:
        await self.setup()
        log.info(
            "projection %s consuming %s as %s from #%d",
            self.projection.name,
            self.projection.subject_filter,
            self.durable,
            self._applied + 1,
        )
        try:
            await self._loop()
        finally:
            self.consuming = False
            await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        puller, self._puller = self._puller, None
        if puller is not None:
            await puller.stop()

    async def _fetch(self, pending_only: int = 0) -> tuple[int, list]:
        """The next batch from the current consumer, decoded, with that consumer's generation;
        with ``pending_only``, at most that many messages, without waiting for any."""
        self._ensure_held()
        generation, puller = self._generation, self._puller
        if puller is None:
            raise nats.errors.Error("no consumer")  # reset() ran into an error: try again
        if pending_only:
            messages = await puller.fetch(pending_only)
        else:
            messages = await puller.fetch(self.batch_size, self.fetch_timeout)
        await self.store.load_keys(msg.headers for msg in messages)
        return generation, self._decode(messages)

    async def _loop(self) -> None:
        ahead: asyncio.Task | None = None
        try:
            while not self._stopping.is_set():
                if ahead is None:
                    ahead = asyncio.create_task(self._fetch())
                # A fetch that ended while the last batch was written may have only its first
                # messages: what came since joins the batch (else at a steady trickle every
                # event would wait a whole write, one batch of one after another).
                waited = ahead.done()
                try:
                    generation, decoded = await ahead
                    room = self.batch_size - len(decoded)
                    if waited and decoded and room > 0:
                        more_generation, more = await self._fetch(pending_only=room)
                        if more_generation == generation:
                            decoded = sorted(decoded + more, key=lambda pair: pair[0].metadata.sequence.stream)
                        else:  # the consumer was recreated meanwhile: only its own messages count
                            generation, decoded = more_generation, more
                except (nats.errors.ConnectionClosedError, nats.errors.DrainTimeoutError):
                    if self._stopping.is_set():
                        return
                    raise
                except nats.errors.Error as exc:
                    ahead = None
                    if self._stopping.is_set():
                        return
                    await self._reset(f"fetch failed: {exc!r}")
                    continue
                # Fetch and decode the next batch while this one is written.
                ahead = asyncio.create_task(self._fetch()) if decoded else None
                async with self._lock:
                    if generation != self._generation:
                        continue  # a rebuild recreated the consumer: it delivers again from the checkpoint
                    try:
                        await self._handle_decoded(decoded)
                    except _Retry as retry:
                        await _cancel(ahead)
                        ahead = None
                        await self._reset(str(retry), quiet=retry.quiet)
        finally:
            await _cancel(ahead)

    def stop(self) -> None:
        self._stopping.set()
        if self._puller is not None:
            self._puller.wake()  # rather than wait out the fetch under way

    async def _reset(self, reason: str, quiet: bool = False) -> None:
        self.consuming = False
        if not quiet:
            log.warning(
                "projection %s: %s; resuming from #%d in %.1fs",
                self.projection.name,
                reason,
                self._applied + 1,
                self.retry_delay,
            )
        self.stats.errors.append(reason)
        del self.stats.errors[:-20]
        await asyncio.sleep(self.retry_delay)
        # One line per outage, not one per attempt: MongoDB or NATS may stay down for minutes.
        failing_since: float | None = None
        while not self._stopping.is_set():
            try:
                await self.setup()
            except (nats.errors.Error, PyMongoError) as exc:
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning(
                        "projection %s cannot reset its consumer yet (%s); retrying every %.1fs until it can",
                        self.projection.name,
                        describe(exc),
                        self.retry_delay,
                    )
                await asyncio.sleep(self.retry_delay)
                continue
            if failing_since is not None:
                log.info(
                    "projection %s reset its consumer after %.1fs; resuming from #%d",
                    self.projection.name,
                    time.monotonic() - failing_since,
                    self._applied + 1,
                )
            return

    # -- one batch ------------------------------------------------------
    def _decode(self, messages: list) -> list[tuple[Any, RecordedEvent | _Broken | None]]:
        decoded: list[tuple[Any, RecordedEvent | _Broken | None]] = []
        for msg in sorted(messages, key=lambda m: m.metadata.sequence.stream):
            try:
                decoded.append(
                    (
                        msg,
                        self.codec.decode(
                            msg.metadata.sequence.stream, msg.subject, msg.headers, msg.data, self.store.keys
                        ),
                    )
                )
            except UnknownEventType:
                decoded.append((msg, None))
            except MalformedEvent as exc:
                decoded.append((msg, _Broken(str(exc))))
        return decoded

    async def handle(self, messages: list) -> None:
        await self.store.load_keys(msg.headers for msg in messages)
        await self._handle_decoded(self._decode(messages))

    async def _handle_decoded(self, decoded: list[tuple[Any, RecordedEvent | _Broken | None]]) -> None:
        if not decoded:  # a fetch can end with nothing (nothing came in its wait) or a status message
            if self._unwritten is not None:
                try:
                    await self._write_checkpoint(self._unwritten, self._token)
                except PyMongoError as exc:
                    raise _Retry(f"writing the checkpoint of {self.projection.collection} failed: {exc}") from exc
            return
        started_ns = time.time_ns()
        self._check_contiguous([msg for msg, _ in decoded])
        # Redeliveries of what the checkpoint already covers are acknowledged and dropped.
        fresh = [pair for pair in decoded if pair[0].metadata.sequence.stream > self._applied]
        if not fresh:
            await decoded[-1][0].ack()
            return
        decoded = fresh
        messages = [msg for msg, _ in decoded]

        keys = {self.projection.key(r) for _, r in decoded if isinstance(r, RecordedEvent)} - {None}
        if self._known is not None:
            keys &= self._known  # the others do not exist yet
        try:
            docs = (
                {d["_id"]: d for d in await self.collection.find({"_id": {"$in": list(keys)}}).to_list(None)}
                if keys
                else {}
            )
        except PyMongoError as exc:
            raise _Retry(f"reading {self.projection.collection} failed: {exc}") from exc
        existing = set(docs)

        dirty: set[str] = set()
        parked: list[tuple[Any, str]] = []
        for msg, recorded in decoded:
            if recorded is None:
                self.stats.skipped += 1
                continue
            seq = msg.metadata.sequence.stream
            try:
                if isinstance(recorded, _Broken):
                    raise ValueError(recorded.reason)
                if (changed := _apply_one(self.projection, docs, recorded)) is not None:
                    dirty.add(changed)
                    self.stats.applied += 1
                else:
                    self.stats.skipped += 1
            except Exception as exc:  # a projection bug or a bad event: bounded retries, then park
                attempts = self._failures.get(seq, 0) + 1
                self._failures[seq] = attempts
                if attempts < self.max_attempts:
                    log.warning(
                        "projection %s could not apply %s #%d (attempt %d of %d): %r; retrying in %.1fs",
                        self.projection.name,
                        msg.subject,
                        seq,
                        attempts,
                        self.max_attempts,
                        exc,
                        self.retry_delay,
                        extra=logs.event_fields(msg.headers),
                    )
                    raise _Retry(f"could not apply #{seq}", quiet=True) from exc
                parked.append((msg, repr(exc)))

        last = messages[-1].metadata.sequence.stream
        token = self._token
        try:
            self._ensure_held()
            # Side by side with the write: the listener (if any) does not wait for it.
            told = self._tell(self._applied, last, docs)
            if dirty:
                # A document the read above did not find is inserted: this runner is the
                # collection's only writer. Were that broken (a stale holder), the duplicate key
                # error retries the batch from the checkpoint, and setup() learns the ids.
                # A replace that a newer holder's fence filters out fails the same way.
                write = self.collection.bulk_write(
                    [
                        ReplaceOne(fenced(token, {"_id": k}), self._stamp(docs[k]), upsert=True)
                        if k in existing
                        else InsertOne(self._stamp(docs[k]))
                        for k in dirty
                    ],
                    ordered=False,
                )
                written: tuple[Any, ...] = await asyncio.gather(write, told, return_exceptions=True)
                if isinstance(written[0], BaseException):
                    raise written[0]
            else:
                await told
            for msg, reason in parked:
                await self._park(msg, reason, self._failures.pop(msg.metadata.sequence.stream, 0))
            if time.monotonic() < self._checkpoint_due:
                self._unwritten = last  # by a later batch, or once a fetch waited in vain
            else:
                await self._write_checkpoint(last, token)
        except PyMongoError as exc:
            raise _Retry(f"writing {self.projection.collection} failed: {exc}") from exc
        if self._known is not None:
            self._known |= dirty
            if len(self._known) > KNOWN_IDS_LIMIT:
                self._known = None
        self._applied = max(self._applied, last)
        await messages[-1].ack()
        if tracing.enabled():
            applied = [r for _, r in decoded if isinstance(r, RecordedEvent)]
            tracing.projected(self.projection.name, self.durable, applied, started_ns)
        self.stats.batches += 1
        self.stats.last_seq = max(self.stats.last_seq, last)
        if self.on_batch is not None:
            self.on_batch()

    async def _tell(self, after: int, last: int, docs: dict[str, Doc]) -> None:
        if self.on_writing is None:
            return
        try:
            await self.on_writing(Writing(after, last, list(docs.values())))
        except Exception:
            log.exception("projection %s: a listener of its batches failed", self.projection.name)

    async def _write_checkpoint(self, seq: int, token: int | None) -> None:
        self._ensure_held()
        update: dict = {"$max": {"seq": seq}, "$set": {"updated_at": datetime.now(UTC)}}
        if token is not None:
            update["$set"][FENCE] = token
        await self.db.get_collection(CHECKPOINTS, write_concern=journaled(self.db)).update_one(
            fenced(token, {"_id": self.projection.name}), update, upsert=True
        )
        self._unwritten = None
        self._checkpoint_due = time.monotonic() + self.projection.checkpoint_seconds

    def _check_contiguous(self, messages: list) -> None:
        """Deliveries from our consumer must come without holes, else another process pulled some."""
        if self._delivered is None:
            return  # handle() called directly, without a consumer of our own
        delivered = sorted(msg.metadata.sequence.consumer for msg in messages)
        expected = list(range(self._delivered + 1, self._delivered + 1 + len(delivered)))
        if delivered != expected:
            raise _Retry(
                f"deliveries {delivered[0]}..{delivered[-1]} after #{self._delivered} are not contiguous: "
                "another process pulled from this consumer"
            )
        self._delivered = delivered[-1]

    async def _park(self, msg, reason: str, attempts: int) -> None:
        seq = msg.metadata.sequence.stream
        log.error(
            "PARKED: projection %s gave up on %s #%d after %d attempts: %s. The read model skips it; "
            "inspect %s.%s and rebuild once fixed.",
            self.projection.name,
            msg.subject,
            seq,
            attempts,
            reason,
            self.db.name,
            PARKED,
            extra=logs.event_fields(msg.headers),
        )
        await self.db.get_collection(PARKED, write_concern=journaled(self.db)).replace_one(
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
                "attempts": attempts,
                "parked_at": datetime.now(UTC),
            },
            upsert=True,
        )
        self.stats.parked += 1

    # -- rebuild --------------------------------------------------------
    async def rebuild(self, progress: Callable[[int, int], Any] | None = None, chunk: int = 1000) -> int:
        """Recompute the read model from the start of the stream, in place.

        The live loop is paused meanwhile; events it has not acknowledged yet
        are redelivered afterwards and skipped by ``_seq``, so nothing is lost.
        Every document is replaced by its fold under this runner's fence (so a
        stale holder's rebuild writes nothing a newer holder wrote), then the
        documents the fold does not have are deleted, then the checkpoint is
        set. (A rename of a shadow collection over the live one would be atomic
        for readers, but it cannot be made conditional on the fence: a stale
        holder's rename would wipe out its successor's writes.) Readers may
        meanwhile see some documents already rebuilt and others not yet, each
        of them a correct fold of the events up to its own ``_seq``.
        """
        async with self._lock:
            if self.lease is not None:
                await self._raise_fence(self.lease)
            token = self._token
            self._known = None  # documents may come and go; setup() learns the ids again
            up_to = await self.store.last_seq()
            docs = await fold_stream(self.store, self.projection, up_to, progress)
            values = list(docs.values())
            try:
                for start in range(0, len(values), chunk):
                    self._ensure_held()
                    await self.collection.bulk_write(
                        [
                            ReplaceOne(fenced(token, {"_id": d["_id"]}), self._stamp(d), upsert=True)
                            for d in values[start : start + chunk]
                        ],
                        ordered=False,
                    )
                self._ensure_held()
                present = [d["_id"] async for d in self.collection.find(fenced(token, {}), {"_id": 1})]
                orphans = [key for key in present if key not in docs]
                for start in range(0, len(orphans), chunk):
                    await self.collection.delete_many(fenced(token, {"_id": {"$in": orphans[start : start + chunk]}}))
                for fields in self.projection.indexes:
                    await self.collection.create_index([(f, 1) for f in fields])
                self._ensure_held()
                checkpoint: dict = {"seq": up_to, "rebuilt_at": datetime.now(UTC)}
                if token is not None:
                    checkpoint[FENCE] = token
                await self.db.get_collection(CHECKPOINTS, write_concern=journaled(self.db)).update_one(
                    fenced(token, {"_id": self.projection.name}), {"$set": checkpoint}, upsert=True
                )
            except DuplicateKeyError as exc:
                raise LeaseLost(f"projection {self.projection.name}: a newer holder wrote during the rebuild") from exc
            except PyMongoError as exc:
                if token is not None and _is_duplicate_key(exc):
                    raise LeaseLost(
                        f"projection {self.projection.name}: a newer holder wrote during the rebuild"
                    ) from exc
                raise
            log.info(
                "rebuilt %s: %d documents (%d removed) from %d stream messages",
                self.projection.collection,
                len(values),
                len(orphans),
                up_to,
            )
            if self._puller is not None:
                await self.setup()  # continue after what the rebuild covered
            return len(values)


def _is_duplicate_key(exc: PyMongoError) -> bool:
    details = getattr(exc, "details", None) or {}
    return any(error.get("code") == 11000 for error in details.get("writeErrors", ()))


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


async def _cancel(task: asyncio.Task | None) -> None:
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass  # a fetch abandoned on purpose (or that failed after we stopped caring)


@dataclass(frozen=True)
class _Broken:
    reason: str


class _Retry(Exception):
    def __init__(self, reason: str, quiet: bool = False):
        super().__init__(reason)
        self.quiet = quiet
