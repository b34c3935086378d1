"""One writer per projection: a fenced lease in a JetStream key-value bucket.

Every replica that runs projections competes for one key,
``projections.<database>`` in the bucket ``leases_<service>`` (one lease per
service database, covering all of its projections: they share the database,
the replicas and the failure modes, and one lease means one renewal and one
takeover instead of one per projection). The bucket keeps one revision per
key (history 1) for ``max_age`` = the lease TTL, so a key that is not renewed
disappears TTL seconds after its last renewal.

* **Acquire**: ``kv.create`` succeeds only while the key does not exist. The
  revision it returns is the holder's **fencing token**: KV revisions are
  stream sequences, so a later holder always has a larger token.
* **Renew**: ``kv.update(..., last=revision)`` every TTL/3; it fails if anyone
  else wrote the key since, i.e. the lease was lost.
* **Local deadline**: the monotonic time at which the last successful renewal
  was *sent*, plus TTL, minus a safety margin. The server stamps the renewal
  after we sent it, so the key outlives our deadline. CLOCK_MONOTONIC keeps
  running while a process is SIGSTOPped, so a resumed holder sees at once that
  its lease expired. :meth:`Lease.held` is checked before every fetch and every
  write of a projection runner.
* **Release** on a clean stop: ``kv.delete(..., last=revision)`` (a holder that
  already lost the key cannot delete its successor's).
* **Unanswered writes**: a write whose answer never came (a timeout, or the keeper
  cancelled mid-renewal by a stop) may have been applied all the same. Our revision was
  then stale: the next renewal was refused as if another replica held the key, and a
  release was refused (``BadRequestError``, err_code 10071), so the next holder waited out
  the TTL. So each holding writes a value of its own (holder name and a nonce) and, on such
  a refusal (or after a standby's unanswered create), reads the key: if it carries our
  value, it is ours at the key's revision, renewed or released from there.

The local check leaves a window (check passes, the process is paused, it
resumes after a takeover and writes). That window is closed in MongoDB by the
token (see :mod:`mignet_runtime.projection`: every write is conditional on
``fence <= token``), so the lease is *fenced*, not merely advisory.

Takeover bound, after a holder dies without releasing: the key expires at most
TTL after the holder's last renewal (so at most TTL after its death), and a
standby tries to acquire every second (``STANDBY_RETRY_SECONDS``, or TTL/3 if
shorter); so another replica holds the lease within TTL + 1 s of the death,
and then resets its consumers from the checkpoints (well under a second).
With the default 10 s TTL: about 11 s. After a clean stop (release), within
the retry interval.

Provisioning creates the bucket (:func:`mignet_runtime.provision.provision_lease_bucket`); services read
the TTL from the bucket's configuration, so provisioning is the single source
of truth for it. What a service's NATS user needs for its lease (checked
against nats-server 2.14 with exactly these): publish on
``$JS.API.STREAM.INFO.KV_leases_<service>`` (open the bucket, read its TTL),
``$KV.leases_<service>.projections.>`` (create, renew, release: JetStream
publishes with an expected last sequence) and
``$JS.API.STREAM.MSG.GET.KV_leases_<service>`` (``kv.create`` reads the
delete marker a release leaves), and subscribe on ``_INBOX.>``. Creating
the bucket (provisioning) takes ``$JS.API.STREAM.CREATE.KV_leases_<service>``
and, to change the TTL, ``$JS.API.STREAM.UPDATE.KV_leases_<service>``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)

#: How much earlier than the server we consider the lease gone: a fraction of the TTL, at
#: least 0.5 s, so scheduling jitter and a slow renewal reply cannot outlast the key.
SAFETY_FRACTION = 0.2
MIN_SAFETY_SECONDS = 0.5
#: How often a standby tries to acquire (at most; TTL/3 if shorter): a create that fails is cheap,
#: and this interval is part of the takeover bound.
STANDBY_RETRY_SECONDS = 1.0
#: JetStream's "wrong last sequence" (JSStreamWrongLastSequenceErrF, ...ConstantErr): kv.delete raises
#: it as a plain BadRequestError, kv.update as KeyWrongLastSequenceError.
WRONG_LAST_SEQUENCE = (10071, 10164)


def lease_bucket(service: str) -> str:
    """The KV bucket holding the service's leases (stream ``KV_leases_<service>``)."""
    return f"leases_{service}"


_KEY_TOKEN = re.compile(r"^[-_=A-Za-z0-9]+$")


def lease_key(database: str) -> str:
    """One lease per service database: replicas with other databases (other tests) never wait."""
    if not _KEY_TOKEN.match(database):
        raise ValueError(f"the database name {database!r} cannot be part of a lease key (letters, digits, - _ =)")
    return f"projections.{database}"


class LeaseLost(Exception):
    """This replica no longer holds the lease (or never did): it must write nothing."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """One replica's view of one lease key; not safe to share between processes, by design."""

    def __init__(
        self, kv: KeyValue, key: str, ttl: float, holder: str | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.kv = kv
        self.key = key
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.clock = clock
        self.margin = max(MIN_SAFETY_SECONDS, SAFETY_FRACTION * ttl)
        if self.margin >= ttl:
            raise ValueError(f"a lease TTL of {ttl}s leaves no time to hold it")
        #: The revision at acquisition: the fencing token. None while not held.
        self.token: int | None = None
        self.revision = 0
        self._deadline = 0.0
        self._lock = asyncio.Lock()  # renewals and release use the revision one at a time
        self._last_failure = ""  # a standby logs a failure to acquire once, not every second
        #: What this holding writes: unique, so a key carrying it was written by us (see _ours).
        self.value = self._new_value()
        #: A create of ours went unanswered (timed out, or cancelled while waiting): the key may be ours.
        self._unsure = False

    @classmethod
    async def open(cls, js, service: str, database: str, holder: str | None = None) -> Lease:
        """The lease of ``database``; its TTL comes from the bucket (provisioning's setting)."""
        kv = await js.key_value(lease_bucket(service))
        ttl = (await kv.status()).ttl
        if not ttl:
            raise ValueError(f"bucket {lease_bucket(service)} has no TTL: a dead holder would keep the lease forever")
        return cls(kv, lease_key(database), ttl, holder)

    @property
    def renew_every(self) -> float:
        return self.ttl / 3

    @property
    def retry_every(self) -> float:
        return min(STANDBY_RETRY_SECONDS, self.ttl / 3)

    def held(self) -> bool:
        """True while we hold the lease with time to spare; False as soon as it may have expired."""
        return self.token is not None and self.clock() < self._deadline

    def remaining(self) -> float:
        return max(0.0, self._deadline - self.clock()) if self.token is not None else 0.0

    def fencing_token(self) -> int:
        """The token of the holding under way; LeaseLost when the lease is not held."""
        if self.token is None:
            raise LeaseLost(f"the lease {self.key} is not held")
        return self.token

    async def try_acquire(self) -> bool:
        async with self._lock:
            if self.held():
                return True
            unsure, self._unsure = self._unsure, True  # until answered: also if cancelled meanwhile
            try:
                sent, revision = await asyncio.wait_for(self._create_or_adopt(unsure), self.ttl - self.margin)
            except nats.js.errors.KeyWrongLastSequenceError:
                self._unsure = False
                self._last_failure = ""
                return False  # someone holds it
            except (nats.errors.Error, TimeoutError) as exc:
                # Not "held by another": NATS is away, or a permission is missing (see the docstring).
                if repr(exc) != self._last_failure:
                    log.warning("cannot try to acquire the lease %s: %r; retrying", self.key, exc)
                    self._last_failure = repr(exc)
                return False
            self._unsure = False
            self._last_failure = ""
            self._held_from(sent, revision)
            self.token = revision
            log.info("acquired the lease %s (fencing token %d, TTL %.1fs)", self.key, revision, self.ttl)
            return True

    async def _create_or_adopt(self, unsure: bool) -> tuple[float, int]:
        """(time sent, revision) of our create, or of a renewal of the key an unanswered create of ours wrote."""
        sent = self.clock()
        try:
            return sent, await self.kv.create(self.key, self.value)
        except nats.js.errors.KeyWrongLastSequenceError:
            found = await self._ours(self.value) if unsure else None  # this create wrote nothing; an earlier one?
            if found is None:
                raise
            sent = self.clock()
            return sent, await self.kv.update(self.key, self.value, last=found)

    async def renew(self) -> bool:
        """Renews the lease; False once it is lost (someone else's revision, or our deadline passed)."""
        async with self._lock:
            if not self.held():
                self._lose("its deadline passed before the renewal")
                return False
            sent = self.clock()
            try:
                revision = await asyncio.wait_for(self._update_adopting(), self.remaining())
            except nats.js.errors.KeyWrongLastSequenceError:
                self._lose("another replica holds it")
                return False
            except (nats.errors.Error, TimeoutError) as exc:
                # Not answered: we may still hold it; held() says how long we may go on writing.
                if not self.held():
                    self._lose(f"renewal failed until the deadline ({exc!r})")
                    return False
                log.warning("renewing the lease %s failed (%r); %.1fs left", self.key, exc, self.remaining())
                return True
            self._held_from(sent, revision)
            return True

    async def _update_adopting(self) -> int:
        """Renews at our revision; if refused because an unanswered write of ours moved it, at the key's."""
        try:
            return await self.kv.update(self.key, self.value, last=self.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            found = await self._ours(self.value)
            if found is None or found == self.revision:
                raise
            log.info("the lease %s is at revision %d, written by us unanswered; renewing from it", self.key, found)
            return await self.kv.update(self.key, self.value, last=found)

    async def release(self) -> None:
        """Gives the lease up at once, so another replica (or our own restart) need not wait a TTL."""
        async with self._lock:
            holding, unsure, revision, value = self.token is not None, self._unsure, self.revision, self.value
            self.token, self._unsure, self.value = None, False, self._new_value()
            if not (holding or unsure):
                return
            try:
                if await asyncio.wait_for(self._delete(revision if holding else 0, value), 5):
                    log.info("released the lease %s", self.key)
                elif holding:
                    log.info("the lease %s was no longer ours to release (expired or taken)", self.key)
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("could not release the lease %s (%r); it expires within %.1fs", self.key, exc, self.ttl)

    async def _delete(self, revision: int, value: bytes) -> bool:
        """Deletes the key at ``revision`` or, if it moved, at the key's revision while it carries our value."""
        if revision:
            try:
                await self.kv.delete(self.key, last=revision)
                return True
            except nats.js.errors.APIError as exc:
                if exc.err_code not in WRONG_LAST_SEQUENCE:
                    raise
        found = await self._ours(value)
        if found is None:
            return False
        await self.kv.delete(self.key, last=found)
        return True

    async def _ours(self, value: bytes) -> int | None:
        """The key's revision if it carries ``value`` (so a write of ours put it there), else None."""
        try:
            entry = await self.kv.get(self.key)
        except nats.js.errors.KeyNotFoundError:  # also a delete marker
            return None
        return entry.revision if entry.value == value else None

    def _new_value(self) -> bytes:
        return f"{self.holder} {uuid.uuid4().hex[:12]}".encode()

    def _held_from(self, sent: float, revision: int) -> None:
        self.revision = revision
        self._deadline = sent + self.ttl - self.margin

    def _lose(self, why: str) -> None:
        if self.token is not None:
            log.warning("LOST the lease %s (fencing token %d): %s", self.key, self.token, why)
            self.value = self._new_value()
        self.token = None


@dataclass
class LeaseCallbacks:
    #: Called with the fencing token once the lease is acquired: start the projections.
    acquired: Callable[[int], Awaitable[None]]
    #: Called once it is lost: stop the projections at once, writing nothing.
    lost: Callable[[], Awaitable[None]]


async def keep(
    lease: Lease, callbacks: LeaseCallbacks, lost_signal: asyncio.Event | None = None, *, holding: bool = False
) -> None:
    """Standby until the lease is acquired, then renew it until it is lost; forever (cancel to stop).

    ``lost_signal`` lets a runner that found a newer fence in the store end the holding early.
    ``holding``: the caller acquired the lease and ran ``callbacks.acquired`` itself.
    """
    lost_signal = lost_signal or asyncio.Event()
    while True:
        if holding:
            holding = False
        else:
            if not await lease.try_acquire():
                await asyncio.sleep(lease.retry_every)
                continue
            lost_signal.clear()
            await callbacks.acquired(lease.fencing_token())
        try:
            while True:
                try:
                    await asyncio.wait_for(lost_signal.wait(), lease.renew_every)
                    lease._lose("a projection runner found it gone (expired, or a newer fence in the store)")
                    break
                except TimeoutError:
                    pass
                if not await lease.renew():
                    break
        finally:
            # Also on cancellation: the projections stop before anyone releases the lease.
            await callbacks.lost()
