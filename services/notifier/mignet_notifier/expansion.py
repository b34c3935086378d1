"""Expansion: each recorded event becomes one delivery per matching subscription.

Runs once the subscriptions read model has caught up with ``NOTIFIER`` (so a
subscription created before an event is never missed). Deliveries have
deterministic ids, so expanding an event twice (a redelivery, a rebuild, two
workers) inserts nothing new.

How far each outbox is expanded is one cursor per outbox (``expansion_cursors``:
the stream sequence of the last outbox document expanded), written once per batch
after its attempts have started, rather than a flag updated on every outbox
document (a journaled update costs SecantusDB several times an insert). Only documents up to the outbox projection's
checkpoint are read: the runner writes a batch, then its checkpoint, so none below
it can still appear. A rebuild rewrites the same documents with the same sequences:
nothing is expanded again.

In the process that runs the outbox projections, each batch is expanded as its runner
writes it (:meth:`Expansion.expand_writing`, called side by side with the write and
before the checkpoint), which moves the cursor past the batch: at a steady rate an
event's deliveries are inserted one journaled write after it is fetched, not three
(the outboxes write their checkpoints at most every
:data:`~mignet_notifier.projections.OUTBOX_CHECKPOINT_SECONDS`). Whatever that path
declines (a backlog larger than the worker's room, facets to inherit, subscriptions
not caught up) is read back from the outbox as above.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from mignet_notifier import deliveries as d
from mignet_notifier.domain.matching import matches
from mignet_notifier.inherited_facets import INHERITS, inherit
from mignet_notifier.projections import OUTBOXES, SUBSCRIPTIONS
from mignet_runtime.projection import CHECKPOINTS, Projection, Writing, journaled
from mignet_runtime.service import ServiceRuntime

Doc = dict[str, Any]
#: Events expanded per outbox per pass, at most.
EXPAND_BATCH = 500
CURSORS = "expansion_cursors"
#: The projections whose progress means there may be something to expand.
SOURCES = (SUBSCRIPTIONS.name, *(o.name for o in OUTBOXES))


@dataclass
class Expanded:
    events: int = 0
    #: The new deliveries inserted claimed by the caller (their first attempt is its own).
    claimed: list[Doc] = field(default_factory=list)
    #: Whether any delivery was inserted (claimed or pending).
    inserted: bool = False
    #: Whether everything the outboxes hold up to their checkpoints is expanded (else: look again soon).
    done: bool = True


def _cursors(db: AsyncDatabase) -> AsyncCollection:
    return db.get_collection(CURSORS, write_concern=journaled(db))


async def checkpoints(runtime: ServiceRuntime) -> dict[str, int]:
    """How far the subscriptions and outbox projections are written. From the runners themselves when
    this process runs them (no round trip); else from their checkpoints in MongoDB."""
    names = SOURCES
    runners = runtime.runners if runtime.holds_lease else {}
    if all(name in runners and runners[name].consuming for name in names):
        return {name: runners[name].applied_seq for name in names}
    found = runtime.db[CHECKPOINTS].find({"_id": {"$in": list(names)}}, {"seq": 1})
    return {doc["_id"]: doc.get("seq", 0) async for doc in found}


class Expansion:
    """One worker's expansion, with the cursors it last read or wrote (another worker's progress shows
    as refused duplicates, then as a higher cursor on the next read)."""

    def __init__(self, runtime: ServiceRuntime):
        self.runtime = runtime
        self._cursor: dict[str, int] = {}
        #: Cursors moved in memory and not written yet (:meth:`flush`).
        self._unwritten: dict[str, int] = {}

    async def _cursor_of(self, name: str, shared: bool) -> int:
        """The cursor as this worker moved it; with ``shared`` (another replica's worker runs, and expands,
        too) at least where the database has it, so this one does not expand its events again."""
        if name not in self._cursor or (shared and name not in self._unwritten):
            doc = await _cursors(self.runtime.db).find_one({"_id": name})
            known = doc["seq"] if doc else await _legacy_cursor(self.runtime.db, name)
            if doc is None and known:
                # Written at once: a rebuild of the outbox drops the old flags it was read from.
                await _cursors(self.runtime.db).update_one({"_id": name}, {"$max": {"seq": known}}, upsert=True)
            self._cursor[name] = max(known, self._cursor.get(name, 0))
        return self._cursor[name]

    def _advance(self, name: str, seq: int) -> None:
        """Moves the cursor in memory; :meth:`flush` writes it (after the attempts have started)."""
        if seq > self._cursor.get(name, 0):
            self._cursor[name] = self._unwritten[name] = seq

    async def flush(self) -> None:
        """Writes the cursors moved since the last flush. A crash before it expands those events again,
        which inserts nothing (the deliveries are there already, keyed by their ids)."""
        while self._unwritten:
            name, seq = self._unwritten.popitem()
            await _cursors(self.runtime.db).update_one({"_id": name}, {"$max": {"seq": seq}}, upsert=True)

    async def expand(
        self,
        written: dict[str, int],
        subscriptions: list[Doc],
        token: str,
        room: int,
        claimed_until: datetime,
        shared: bool = False,
    ) -> Expanded:
        """Expands what the outboxes hold up to their checkpoints (``written``) for the active ``subscriptions``,
        at most ``room`` events per outbox (so that each delivery can be inserted claimed by ``token``);
        ``shared``: this process does not hold the projection lease (the holder's worker expands too)."""
        db = self.runtime.db
        result = Expanded()
        if room <= 0:
            result.done = False  # no room for new deliveries now: once attempts end
            return result
        limit = min(EXPAND_BATCH, room)
        ranges = {o: (await self._cursor_of(o.name, shared), written.get(o.name, 0)) for o in OUTBOXES}
        ranges = {o: (cursor, upto) for o, (cursor, upto) in ranges.items() if upto > cursor}
        if not ranges:
            return result

        async def read(outbox, cursor: int, upto: int) -> list[Doc]:
            selector = {"_seq": {"$gt": cursor, "$lte": upto}}
            return await db[outbox.collection].find(selector).sort("_seq", 1).limit(limit).to_list(None)

        # The outboxes are read while NOTIFIER's last sequence is asked for (one round trip each, side by side).
        reads = asyncio.gather(*(read(o, *bounds) for o, bounds in ranges.items()))
        last_seq, found = await asyncio.gather(self.runtime.store.last_seq(), reads)
        if written.get(SUBSCRIPTIONS.name, 0) < last_seq:
            return result  # the subscriptions' checkpoint moves when they catch up: a turn then
        for (outbox, (_, upto)), docs in zip(ranges.items(), found, strict=True):
            full = len(docs) == limit  # perhaps more to read up to the checkpoint
            result.done &= not full
            if docs:
                await inherit(db, outbox.collection, docs)
                await _insert(db, docs, subscriptions, token, room, claimed_until, result)
            # Only once the deliveries are in: an insert that failed leaves the cursor where it was, so the
            # worker's next turn expands the same events again (the ones inserted before the failure are refused).
            self._advance(outbox.name, docs[-1]["_seq"] if full else upto)
        return result

    async def expand_writing(
        self,
        outbox: Projection,
        batch: Writing,
        subscriptions: list[Doc],
        token: str,
        room: int,
        claimed_until: datetime,
    ) -> Expanded | None:
        """Expands a batch while the outbox runner of this process writes it, rather than read back after its
        write and checkpoint (a journaled write and a read fewer before the first attempt). None when it cannot
        (the worker's turn reads the outbox instead): documents before the batch not expanded yet, more events
        than the caller has room for, or facets to inherit (the origin event may be in this very batch, not
        written yet). The caller makes sure ``subscriptions`` hold every subscription created before these
        events. A delivery inserted before its outbox document is harmless: the runner writes that document
        before it acknowledges the event, whatever happens, and the delivery has its own copy of the event."""
        docs = sorted(batch.docs, key=lambda doc: doc["_seq"])
        if self._cursor.get(outbox.name) != batch.after or len(docs) > min(EXPAND_BATCH, room):
            return None
        if any(doc["type"] in INHERITS for doc in docs):
            return None
        result = Expanded()
        if docs and subscriptions:
            await _insert(self.runtime.db, docs, subscriptions, token, room, claimed_until, result)
        self._advance(outbox.name, batch.last)
        return result


async def _insert(
    db: AsyncDatabase,
    docs: list[Doc],
    subscriptions: list[Doc],
    token: str,
    room: int,
    claimed_until: datetime,
    result: Expanded,
) -> None:
    """Inserts the deliveries of outbox ``docs`` to the matching ``subscriptions``: as many as the caller has
    ``room`` for claimed by it (``token``), the others pending, for any worker."""
    at = d.now()
    new = [
        d.new_delivery(doc, s, at)
        for doc in docs
        for s in subscriptions
        if matches(s, doc["type"], doc["public"], doc.get("facets") or {}, doc["recorded_at"])
    ]
    take = max(0, room - len(result.claimed))
    new = [d.claimed(doc, token, claimed_until) for doc in new[:take]] + new[take:]
    inserted = await d.insert_new(db, new)
    result.inserted |= bool(inserted)
    result.claimed += [doc for doc in inserted if doc.get("claim") == token]
    result.events += len(docs)


async def _legacy_cursor(db: AsyncDatabase, name: str) -> int:
    """Where an outbox written before the cursors stood: its last document flagged ``expanded``."""
    outbox = next(o for o in OUTBOXES if o.name == name)
    last = await db[outbox.collection].find_one({"expanded": True}, {"_seq": 1}, sort=[("_seq", -1)])
    return int(last["_seq"]) if last else 0
