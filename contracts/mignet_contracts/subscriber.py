"""A small typed subscriber to the public feed, on nats-py.

::

    nc = await connect("nats://feed.example:4222", password=...)      # as the integrator user
    async for envelope in subscribe(nc, ChampionNominated, durable="partner-x"):
        print(envelope.event.country, envelope.time, envelope.id)

It reads the stream ``PUBLIC`` through a pull consumer: durable (``durable=``, resumes
where it stopped) or ephemeral (removed by the server once idle). It starts from the
first event, a stream sequence (``start_seq``) or a stored time (``start_time``: when
the event reached the feed); ``since_occurred_on`` skips events whose business date
(``occurred_on``) is earlier, which no stream position can do, since history may be
back-dated. ``follow=False`` stops once it has caught up.

Delivery is **at least once**: an event is acknowledged when the loop asks for the next
one, so one that was being handled when the program stopped comes again (stop a loop
early inside ``contextlib.aclosing(subscribe(...))``: the events fetched but not
handled are handed back at once rather than after the server's ack wait). Keep the
``ce-id`` (``envelope.id``) of what you have applied, or make applying idempotent.
Event types this package does not know (newer than it) are acknowledged and skipped;
earlier versions of an event are upcast to the current model (:mod:`mignet_contracts.catalog`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from mignet_contracts import catalog, cloudevents
from mignet_contracts.envelope import Event
from mignet_contracts.feed import INTEGRATOR_USER, PUBLIC_STREAM

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Envelope(Generic[E]):
    """One event with its CloudEvents attributes and its place in the feed."""

    event: E
    id: str
    type: str
    time: datetime
    attributes: dict[str, str]
    stream_seq: int
    nats_subject: str

    @property
    def actor(self) -> str | None:
        return self.attributes.get("actor")


async def connect(url: str, password: str, user: str = INTEGRATOR_USER, **options: Any) -> nats.NATS:
    """A connection as the integrator, with the inbox prefix its permissions allow."""
    return await nats.connect(url, user=user, password=password, inbox_prefix=f"_INBOX_{user}", **options)


def filters(what: type[Event] | Iterable[type[Event]] | str) -> list[str]:
    """Subject filters for one event class, several, or a subject pattern."""
    if isinstance(what, str):
        return [what]
    classes = [what] if isinstance(what, type) else list(what)
    return [cls.subject_for("*") for cls in classes]


def decode(msg: Any, types: dict[str, type[Event]]) -> Envelope | None:
    """The envelope of one NATS message; None for an event type not in ``types``."""
    attributes = cloudevents.attributes(msg.headers)
    cls = types.get(attributes.get("type", ""))
    if cls is None:
        return None
    return Envelope(
        event=catalog.upcast(cls.model_validate_json(msg.data)),  # an earlier version becomes the current one
        id=attributes["id"],
        type=attributes["type"],
        time=datetime.fromisoformat(attributes["time"]),
        attributes=attributes,
        stream_seq=msg.metadata.sequence.stream,
        nats_subject=msg.subject,
    )


async def subscribe(
    nc: nats.NATS,
    what: type[Event] | Iterable[type[Event]] | str = ">",
    *,
    durable: str | None = None,
    start_seq: int | None = None,
    start_time: datetime | None = None,
    since_occurred_on: date | None = None,
    follow: bool = True,
    stream: str = PUBLIC_STREAM,
    batch: int = 100,
    wait: float = 5.0,
) -> AsyncIterator[Envelope]:
    """Yield the feed's events, typed, in stream order (see the module docstring)."""
    if start_seq is not None and start_time is not None:
        raise ValueError("give start_seq or start_time, not both")
    js = nc.jetstream()
    subjects = filters(what)
    name = durable
    existing = None
    if durable:
        try:
            existing = await js.consumer_info(stream, durable)
        except NotFoundError:
            existing = None
    if existing is None:
        policy = DeliverPolicy.ALL
        if start_seq is not None:
            policy = DeliverPolicy.BY_START_SEQUENCE
        elif start_time is not None:
            policy = DeliverPolicy.BY_START_TIME
        config = ConsumerConfig(
            durable_name=durable,
            deliver_policy=policy,
            opt_start_seq=start_seq,
            opt_start_time=start_time,
            ack_policy=AckPolicy.EXPLICIT,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
            inactive_threshold=None if durable else 60.0,
        )
        name = (await js.add_consumer(stream, config)).name
    sub = await js.pull_subscribe_bind(consumer=name, stream=stream)
    types = catalog.by_type()
    unhandled: list = []  # fetched but not acknowledged: handed back at once if the loop stops
    try:
        while True:
            try:
                unhandled = list(await sub.fetch(batch, timeout=wait))
            except TimeoutError:  # nats-py raises its own subclass, or asyncio's (builtin) one, by the path taken
                # Quiet for ``wait`` seconds. Caught up only if the server says so: a slow answer is no answer.
                if follow:
                    continue
                info = await sub.consumer_info()
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    return
                continue
            while unhandled:
                msg = unhandled[0]
                envelope = decode(msg, types)
                if envelope is not None and not (since_occurred_on and envelope.event.occurred_on < since_occurred_on):
                    yield envelope
                await msg.ack_sync()
                unhandled.pop(0)
                if not follow and msg.metadata.num_pending == 0 and not unhandled:
                    return
    finally:
        for msg in unhandled:
            try:
                await msg.nak()
            except nats.errors.Error:
                pass  # the connection is gone: the server redelivers after its ack wait
        await sub.unsubscribe()
