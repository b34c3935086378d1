"""NATS JetStream as the event store.

One stream per service (``REGISTRY`` holds ``registry.events.>``), one subject
per aggregate instance and event type
(``registry.events.network.nat-bd.created``). An aggregate's version is the
stream sequence of its last event; appends state it with
``Nats-Expected-Last-Subject-Sequence`` over the aggregate's wildcard, so of
two writers on the same version exactly one wins. Several events from one
command go in one atomic batch. ``Nats-Msg-Id`` carries the command id, so a
resent command is de-duplicated by the server within the duplicate window
(beyond it, the command ids recorded on the aggregate's own events catch it:
see :mod:`mignet_runtime.commands`), and a refused duplicate says where the
original is (:class:`DuplicateCommand`, :meth:`EventStore.command_trace`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from mignet_contracts import envelope as ce
from mignet_contracts.envelope import Event
from mignet_runtime.aggregate import AggregateType
from mignet_runtime.codec import EventCodec, Metadata, RecordedEvent, UnknownEventType, recorded_at
from mignet_runtime.errors import Unavailable, ValidationFailed
from mignet_runtime.keystore import KeyRing
from mignet_runtime.personal import data_key_of

log = logging.getLogger(__name__)

ERR_WRONG_LAST_SEQUENCE = 10071
ERR_BATCH_DUPLICATE_MSG_ID = 10201
#: JetStream refuses atomic batches above 1,000 messages; commands stay far below.
MAX_EVENTS_PER_APPEND = 100
READ_BATCH = 256
#: Events of one aggregate read one Direct Get each before a batched read takes over.
SINGLE_READS = 16


class WrongExpectedVersion(Exception):
    """Another writer appended to the aggregate first."""


class DuplicateCommand(Exception):
    """The server already holds events with this command's message id (within the duplicate window).

    ``original_seq`` is the stream sequence of the original message, when the server said it.
    """

    def __init__(self, message: str, original_seq: int | None = None):
        super().__init__(message)
        self.original_seq = original_seq


@dataclass(frozen=True)
class CommandTrace:
    """Where and when a command id was used, read from the headers of one of its events."""

    seq: int
    aggregate: str
    aggregate_id: str
    command_id: str | None
    command_name: str | None
    command_hash: str | None
    recorded_at: datetime


#: No message carries this id (ids are identifiers, without '~'), so a publish that
#: expects it as the stream's last message id is refused whenever it gets that far.
_NO_SUCH_MSG_ID = "~no-such-message~"


@dataclass(frozen=True)
class StreamSettings:
    #: JetStream's default is two minutes; retried commands arrive later than that.
    duplicate_window: timedelta = timedelta(hours=6)
    replicas: int = 1
    max_bytes: int = -1


class _ReplyRouter:
    """Hands each message on ``<prefix><token>`` to the read waiting for that token."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._waiting: dict[str, asyncio.Queue] = {}
        self._next = itertools.count(1)

    def open(self) -> tuple[str, asyncio.Queue]:
        token = str(next(self._next))
        queue = self._waiting[token] = asyncio.Queue()
        return token, queue

    def close(self, token: str) -> None:
        self._waiting.pop(token, None)

    async def route(self, msg) -> None:
        queue = self._waiting.get(msg.subject[len(self.prefix) :])
        if queue is not None:  # else a late answer to a read that gave up
            queue.put_nowait(msg)


def stream_name(service: str) -> str:
    return service.upper()


def expected_stream_config(service: str, settings: StreamSettings | None = None) -> StreamConfig:
    """The one configuration a service's stream must have: provisioning creates it, services check it."""
    settings = settings or StreamSettings()
    return StreamConfig(
        name=stream_name(service),
        description=f"mignet {service} event store",
        subjects=[f"{service}.events.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        # Events are the system of record: never aged out or capped by count.
        max_age=0,
        max_msgs=-1,
        max_msgs_per_subject=-1,
        max_bytes=settings.max_bytes,
        num_replicas=settings.replicas,
        duplicate_window=settings.duplicate_window.total_seconds(),
        allow_direct=True,
        allow_atomic=True,
        deny_delete=True,
        deny_purge=True,
    )


class EventStore:
    def __init__(
        self,
        nc: NATS,
        service: str,
        codec: EventCodec,
        settings: StreamSettings | None = None,
        timeout: float = 5.0,
        keys: KeyRing | None = None,
    ):
        self.nc = nc
        #: The service's data keys (personal fields); None for another service's stream: read as withheld.
        self.keys = keys
        self.js = nc.jetstream(timeout=timeout)
        self.service = service
        self.stream = stream_name(service)
        self.codec = codec
        self.settings = settings or StreamSettings()
        self.timeout = timeout
        self._router: _ReplyRouter | None = None
        self._router_lock = asyncio.Lock()
        #: Told of every append: (outcome: ok, wrong_version, duplicate or error; events; seconds).
        self.on_append: Callable[[str, int, float], None] | None = None

    # -- stream ---------------------------------------------------------
    def stream_config(self) -> StreamConfig:
        return expected_stream_config(self.service, self.settings)

    async def ensure_stream(self) -> None:
        """Create the stream, or update it to the expected configuration: administrative (tests, benchmarks).

        Service users may not do this; deployments run ``mignet admin provision``
        (:mod:`mignet_runtime.provision`), which refuses unsafe changes.
        """
        config = self.stream_config()
        try:
            await self.js.stream_info(self.stream)
        except NotFoundError:
            await self.js.add_stream(config)
            log.info("created stream %s for %s", self.stream, config.subjects)
            return
        await self.js.update_stream(config)

    async def last_seq(self) -> int:
        info = await self.js.stream_info(self.stream)
        return info.state.last_seq

    # -- reading --------------------------------------------------------
    async def read(
        self, subject_filter: str, after_seq: int = 0, up_to_seq: int | None = None, *, skip_unknown: bool = True
    ) -> AsyncIterator[RecordedEvent]:
        """Events on ``subject_filter`` (wildcards allowed) in stream order, via batched Direct Get."""
        next_seq = after_seq + 1
        while up_to_seq is None or next_seq <= up_to_seq:
            batch, pending, last = await self._direct_batch(subject_filter, next_seq)
            await self.load_keys(headers for _, _, headers, _ in batch)
            for seq, subject, headers, data in batch:
                if up_to_seq is not None and seq > up_to_seq:
                    return
                try:
                    yield self.codec.decode(seq, subject, headers, data, self.keys)
                except UnknownEventType:
                    if not skip_unknown:
                        raise
                    log.debug("skipping unknown event type on %s #%d", subject, seq)
            if not batch or pending == 0:
                return
            next_seq = last + 1

    async def _direct_batch(self, subject_filter: str, start: int) -> tuple[list, int, int]:
        replies = await self._replies()
        token, queue = replies.open()
        request = {"seq": start, "next_by_subj": subject_filter, "batch": READ_BATCH}
        messages: list[tuple[int, str, dict, bytes]] = []
        pending, last = 0, start - 1
        try:
            await self.nc.publish(
                f"$JS.API.DIRECT.GET.{self.stream}", json.dumps(request).encode(), reply=replies.prefix + token
            )
            async with asyncio.timeout(self.timeout):
                while True:
                    msg = await queue.get()
                    headers = msg.headers or {}
                    status = headers.get("Status")
                    if status == "404":
                        return [], 0, last
                    if status == "204":  # end of batch
                        pending = int(headers.get("Nats-Num-Pending", 0))
                        return messages, pending, last
                    if status:
                        raise Unavailable(
                            f"direct get on {self.stream} answered {status} {headers.get('Description', '')}"
                        )
                    seq = int(headers["Nats-Sequence"])
                    messages.append((seq, headers["Nats-Subject"], headers, msg.data))
                    last = seq
        except TimeoutError as exc:
            raise Unavailable(f"the event store ({self.stream}) did not answer in {self.timeout}s") from exc
        finally:
            replies.close(token)

    async def _replies(self) -> _ReplyRouter:
        # One long-lived inbox subscription for every read: a subscription per request
        # cost a SUB and an UNSUB (and the server's interest bookkeeping) per aggregate load.
        if self._router is None:
            async with self._router_lock:
                if self._router is None:
                    router = _ReplyRouter(self.nc.new_inbox() + ".")
                    await self.nc.subscribe(router.prefix + "*", cb=router.route)
                    self._router = router
        return self._router

    async def read_aggregate(
        self, aggregate: AggregateType, aggregate_id: str, after_seq: int = 0
    ) -> list[RecordedEvent]:
        """The aggregate's events after ``after_seq``, in order.

        A batched read scans the whole rest of the stream for more matches, so its
        cost grows with the stream (3 ms of server CPU 15,000 messages on). Instead:
        the aggregate's last sequence first (the server keeps a per-subject index),
        nothing more when the cache is current, else its events one Direct Get each,
        each found through that index; a long history finishes with a batched read.
        """
        wildcard = aggregate.wildcard(aggregate_id)
        last = await self._last_seq_of(wildcard)
        events: list[RecordedEvent] = []
        seq = after_seq
        while seq < last:
            if len(events) == SINGLE_READS:
                events += [e async for e in self.read(wildcard, seq, last, skip_unknown=False)]
                break
            msg = await self._direct_get({"seq": seq + 1, "next_by_subj": wildcard})
            if msg is None:
                break
            seq = int(msg.headers["Nats-Sequence"])
            await self.load_keys([msg.headers])
            events.append(self.codec.decode(seq, msg.headers["Nats-Subject"], msg.headers, msg.data, self.keys))
        return events

    async def load_keys(self, headers) -> None:
        """Fetch the data keys these messages' personal fields were sealed with, before decoding them."""
        if self.keys is not None:
            await self.keys.load(data_key_of(h) for h in headers)

    async def command_secret(self) -> bytes | None:
        """The service's secret for keyed command hashes, when it has a key store."""
        return None if self.keys is None else await self.keys.command_secret()

    async def _last_seq_of(self, subject_filter: str) -> int:
        msg = await self._direct_get({"last_by_subj": subject_filter})
        return int(msg.headers["Nats-Sequence"]) if msg is not None else 0

    async def _direct_get(self, request: dict):
        """One message by Direct Get, or None when there is none."""
        try:
            msg = await self.nc.request(
                f"$JS.API.DIRECT.GET.{self.stream}", json.dumps(request).encode(), timeout=self.timeout
            )
        except nats.errors.TimeoutError as exc:
            raise Unavailable(f"the event store ({self.stream}) did not answer in {self.timeout}s") from exc
        headers = msg.headers or {}
        status = headers.get("Status")
        if status == "404":
            return None
        if status:
            raise Unavailable(f"direct get on {self.stream} answered {status} {headers.get('Description', '')}")
        return msg

    async def command_trace(self, seq: int) -> CommandTrace | None:
        """The command behind the event at ``seq`` (None when there is none), from its headers alone."""
        msg = await self._direct_get({"seq": seq})
        if msg is None:
            return None
        headers = msg.headers
        parts = headers["Nats-Subject"].split(".")  # <service>.events.<aggregate>.<id>.<name>
        if len(parts) != 5:
            return None
        return CommandTrace(
            seq=seq,
            aggregate=parts[2],
            aggregate_id=parts[3],
            command_id=headers.get(ce.H_COMMAND),
            command_name=headers.get(ce.H_COMMAND_NAME),
            command_hash=headers.get(ce.H_COMMAND_HASH),
            recorded_at=recorded_at(headers),
        )

    # -- writing --------------------------------------------------------
    async def append(
        self,
        aggregate: AggregateType,
        aggregate_id: str,
        events: Sequence[Event],
        expected_version: int,
        meta: Metadata,
    ) -> list[int]:
        """Append ``events`` if the aggregate is still at ``expected_version``; returns their sequences.

        Raises :class:`WrongExpectedVersion` when another writer won and
        :class:`DuplicateCommand` when this command id was already written.
        """
        if not events:
            return []
        if len(events) > MAX_EVENTS_PER_APPEND:
            raise ValidationFailed(f"a command may write at most {MAX_EVENTS_PER_APPEND} events, not {len(events)}")
        for event in events:
            if event.aggregate_id != aggregate_id or event.aggregate != aggregate.name:
                raise ValueError(f"{event.subject} does not belong to {aggregate.name} {aggregate_id}")
        if self.keys is not None:
            await self.keys.prepare(events, meta.command_id)
            # A person is recorded by pseudonym (docs/privacy.md); the link lives in the key bucket.
            meta = replace(meta, actor=await self.keys.pseudonym(meta.actor))
        messages = []
        for index, event in enumerate(events, start=1):
            headers, data = self.codec.encode(event, meta, self.keys)
            headers["Nats-Msg-Id"] = meta.command_id if index == 1 else f"{meta.command_id}:{index}"
            messages.append((event.subject, headers, data))
        # The expectation on the first message guards the whole batch.
        first_headers = messages[0][1]
        first_headers["Nats-Expected-Last-Subject-Sequence"] = str(expected_version)
        first_headers["Nats-Expected-Last-Subject-Sequence-Subject"] = aggregate.wildcard(aggregate_id)
        if self.on_append is None:
            return await self._publish(messages)
        started, outcome = time.perf_counter(), "error"
        try:
            seqs = await self._publish(messages)
            outcome = "ok"
            return seqs
        except WrongExpectedVersion:
            outcome = "wrong_version"
            raise
        except DuplicateCommand:
            outcome = "duplicate"
            raise
        finally:
            self.on_append(outcome, len(messages), time.perf_counter() - started)

    async def _publish(self, messages: list[tuple[str, dict, bytes]]) -> list[int]:
        if len(messages) == 1:
            return [await self._publish_one(*messages[0])]
        return await self._publish_atomic(messages)

    async def _publish_one(self, subject: str, headers: dict, data: bytes) -> int:
        try:
            ack = await self.js.publish(subject, data, headers=headers, timeout=self.timeout)
        except APIError as exc:
            raise self._translate(exc.err_code, exc.description or "") from exc
        except nats.errors.TimeoutError as exc:
            raise Unavailable(f"the event store ({self.stream}) did not acknowledge in {self.timeout}s") from exc
        except (nats.js.errors.NoStreamResponseError, nats.errors.NoRespondersError) as exc:
            raise self._leaderless() from exc
        if ack.duplicate:  # the ack of a duplicate carries the original's sequence
            raise DuplicateCommand(headers["Nats-Msg-Id"], ack.seq)
        return ack.seq

    def _leaderless(self) -> Unavailable:
        # Nobody received the message, so nothing was stored: safe to send again. In a cluster this
        # is the few seconds of a leader election after a node died.
        return Unavailable(f"the event store ({self.stream}) has no leader to answer (a node down or an election)")

    async def _publish_atomic(self, messages: list[tuple[str, dict, bytes]]) -> list[int]:
        batch_id = uuid.uuid4().hex
        last = len(messages)
        try:
            for index, (subject, headers, data) in enumerate(messages, start=1):
                headers["Nats-Batch-Id"] = batch_id
                headers["Nats-Batch-Sequence"] = str(index)
                if index < last:
                    # The server answers only the commit; a broken batch is abandoned whole.
                    await self.nc.publish(subject, data, headers=headers)
                else:
                    headers["Nats-Batch-Commit"] = "1"
                    reply = await self.nc.request(subject, data, headers=headers, timeout=self.timeout)
        except nats.errors.TimeoutError as exc:
            raise Unavailable(f"the event store ({self.stream}) did not commit the batch in {self.timeout}s") from exc
        except nats.errors.NoRespondersError as exc:
            raise self._leaderless() from exc
        answer = json.loads(reply.data or b"{}")
        if "error" in answer:
            error = answer["error"]
            if error.get("err_code") == ERR_BATCH_DUPLICATE_MSG_ID:
                subject, headers, _ = messages[0]
                raise DuplicateCommand(
                    error.get("description", ""), await self.original_seq(subject, headers["Nats-Msg-Id"])
                )
            raise self._translate(error.get("err_code"), error.get("description", ""))
        end = int(answer["seq"])
        return list(range(end - last + 1, end + 1))

    async def original_seq(self, subject: str, msg_id: str) -> int | None:
        """The sequence of the message holding ``msg_id`` in the duplicate window, or None.

        A batch refused for a duplicate id (10201) does not say where the original
        is; a single duplicate's ack does. So ask with a single publish that can
        never be written: it also expects a last message id no message has.
        nats-server 2.14 checks the message id before that expectation (verified
        by a test), answering a duplicate with the original's sequence; were the
        order ever reversed, the expectation fails first and the answer is None.
        """
        headers = {"Nats-Msg-Id": msg_id, "Nats-Expected-Last-Msg-Id": _NO_SUCH_MSG_ID}
        try:
            ack = await self.js.publish(subject, b"", headers=headers, timeout=self.timeout)
        except (APIError, nats.errors.TimeoutError):
            return None
        if not ack.duplicate:  # impossible by the expectation; loud if a server ever breaks it
            log.error("probe for message id %s was written to %s #%d", msg_id, subject, ack.seq)
            return None
        return ack.seq

    def _translate(self, err_code: int | None, description: str) -> Exception:
        if err_code == ERR_WRONG_LAST_SEQUENCE:
            return WrongExpectedVersion(description)
        if err_code == ERR_BATCH_DUPLICATE_MSG_ID:
            return DuplicateCommand(description)
        return Unavailable(f"the event store ({self.stream}) refused the append: {description} ({err_code})")


class StreamMisconfigured(Exception):
    """The service's stream exists with another configuration than the one it needs."""


class StreamMissing(Exception):
    """The service's stream was never provisioned."""


#: What a service checks of its stream at start, as (field, what it means); each must equal the expected value.
CHECKED_FIELDS = (
    ("subjects", "subjects"),
    ("retention", "retention"),
    ("storage", "storage"),
    ("discard", "discard policy"),
    ("max_age", "max age"),
    ("max_msgs", "max messages"),
    ("max_msgs_per_subject", "max messages per subject"),
    ("max_bytes", "max bytes"),
    ("num_replicas", "replicas"),
    ("duplicate_window", "duplicate window"),
    ("allow_direct", "direct get"),
    ("allow_atomic", "atomic batches"),
    ("deny_delete", "deny delete"),
    ("deny_purge", "deny purge"),
)


def _normalise(field: str, value):
    if field == "subjects":
        return sorted(value or [])
    if field in ("max_age", "duplicate_window"):
        return float(value or 0)  # seconds; nats-py hands back floats
    if field in ("allow_direct", "allow_atomic", "deny_delete", "deny_purge"):
        return bool(value)
    return value


def stream_differences(expected: StreamConfig, actual: StreamConfig) -> dict[str, tuple]:
    """``{field: (expected, actual)}`` for every checked field that differs; empty when all is as expected."""
    out = {}
    for name, _ in CHECKED_FIELDS:
        want, have = _normalise(name, getattr(expected, name)), _normalise(name, getattr(actual, name))
        if want != have:
            out[name] = (want, have)
    return out


async def verify_stream(store: EventStore) -> None:
    """Raises :class:`StreamMissing` or :class:`StreamMisconfigured`; services never create or fix streams
    (their NATS users may not): ``mignet admin provision`` does, with an administrative user."""
    try:
        info = await store.js.stream_info(store.stream)
    except NotFoundError as exc:
        raise StreamMissing(f"stream {store.stream} does not exist") from exc
    differences = stream_differences(store.stream_config(), info.config)
    # How many copies the cluster keeps is provisioning's decision (MIGNET_STREAM_REPLICAS), made once
    # for the deployment: a service reads and writes the same way on R1 and R3, so it need not agree.
    differences.pop("num_replicas", None)
    if differences:
        described = "; ".join(f"{field} is {have!r}, expected {want!r}" for field, (want, have) in differences.items())
        raise StreamMisconfigured(f"stream {store.stream} is misconfigured: {described}")


async def wait_for_stream(store: EventStore, timeout: float, delay: float = 1.0) -> None:
    """Waits (up to ``timeout`` seconds) for the stream to exist, then checks its configuration.

    A missing stream is logged once: on a fresh deployment the provisioning step may
    simply not have run yet. A misconfigured one raises at once: it will not fix itself.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    said_missing = False
    while True:
        try:
            await verify_stream(store)
            return
        except StreamMissing:
            if loop.time() >= deadline:
                raise StreamMissing(f"stream {store.stream} still does not exist after {timeout:.0f}s") from None
            if not said_missing:
                log.warning(
                    "stream %s does not exist yet; waiting up to %.0fs for `mignet admin provision`",
                    store.stream,
                    timeout,
                )
                said_missing = True
        except (TimeoutError, nats.errors.Error) as exc:
            # JetStream still starting, or a reconnect under way.
            if loop.time() >= deadline:
                raise
            log.warning("JetStream not ready for %s (%s); retrying in %.0fs", store.stream, exc, delay)
        await asyncio.sleep(delay)
