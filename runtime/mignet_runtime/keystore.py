"""The key store: one data key per data subject in the JetStream KV bucket ``keys_<service>``.

Only the owning service's NATS user (and the admin) may read the bucket
(``deploy/nats/nats.conf``). It holds, under these keys:

* ``dk.<key id>``: a data key (32 random bytes; key id ``<aggregate>.<id>.<command id>``,
  see :mod:`mignet_runtime.personal`);
* ``secret.lookup``: the service's HMAC secret for the erasure index (and command hashes);
* ``ix.<hmac of an address>.<aggregate>.<id>``: the erasure index, empty values: a keyed
  hash of an address and the aggregate that holds data about it, never the address;
* ``pa.<hmac of an actor>``: a person's pseudonym (``ce-actor: person:<random>``) and name,
  the only link between the two: erasing it leaves the pseudonym unlinkable.

Erasing a data key overwrites its message on disk (JetStream's secure message delete:
provisioning creates the bucket's stream with ``deny_delete`` off for that) and leaves
a purge marker, so no revision of the key remains, in the bucket or in its files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import nats.errors
from nats.aio.client import Client as NATS
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue

from mignet_contracts.envelope import Event
from mignet_runtime import personal
from mignet_runtime.errors import Unavailable

log = logging.getLogger(__name__)

#: How long a replica trusts a cached key: an erasure on another replica reaches it within this.
KEY_TTL_SECONDS = 60.0
SECRET_KEY = "secret.lookup"
#: A second secret, for keyed command hashes (``ce-commandhmac``): one secret per purpose.
COMMAND_SECRET_KEY = "secret.commands"
#: A third, for finding an actor's pseudonym by name.
ACTOR_SECRET_KEY = "secret.actors"
#: Actors written as they are (``ce-actor``): systems, not persons. Any other actor is a person.
SYSTEM_ACTOR_PREFIX = "system:"
PSEUDONYM_PREFIX = "person:"


def keys_bucket(service: str) -> str:
    return f"keys_{service}"


class KeyStoreMissing(Exception):
    """The service's key bucket was never provisioned."""


class KeyRing:
    """A service's data keys: a bounded in-memory cache over its KV bucket (``personal.KeySource``)."""

    def __init__(self, nc: NATS, service: str, capacity: int = 100_000, timeout: float = 5.0):
        self.nc = nc
        self.bucket = keys_bucket(service)
        self.stream = f"KV_{self.bucket}"
        self.capacity = capacity
        self.timeout = timeout
        self._kv: KeyValue | None = None
        self._cache: OrderedDict[str, tuple[bytes | None, float]] = OrderedDict()
        self._secrets: dict[str, bytes] = {}
        #: actor -> (pseudonym, until when it is trusted without asking the bucket again)
        self._pseudonyms: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def open(self) -> KeyRing:
        try:
            self._kv = await self.nc.jetstream(timeout=self.timeout).key_value(self.bucket)
        except (BucketNotFoundError, NotFoundError) as exc:
            raise KeyStoreMissing(f"key bucket {self.bucket} does not exist") from exc
        return self

    @property
    def kv(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError("KeyRing.open() first")
        return self._kv

    # -- the codec's side (synchronous, from the cache) --------------------
    def key(self, key_id: str) -> bytes | None:
        try:
            return self._cache[key_id][0]
        except KeyError:
            raise LookupError(f"data key {key_id} was not loaded before decoding") from None

    def forget(self, key_ids: Iterable[str]) -> None:
        for key_id in key_ids:
            self._cache[key_id] = (None, float("inf"))

    def _keep(self, key_id: str, key: bytes | None) -> None:
        # A key found missing is asked for again after the TTL too: with stream replicas, a Direct Get
        # answered by a lagging follower may not have it yet. (An erasure event's forget() is final.)
        self._cache[key_id] = (key, time.monotonic() + KEY_TTL_SECONDS)
        self._cache.move_to_end(key_id)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def _fresh(self, key_id: str) -> bool:
        held = self._cache.get(key_id)
        return held is not None and held[1] > time.monotonic()

    # -- loading and creating ----------------------------------------------
    async def _get(self, name: str) -> bytes | None:
        try:
            entry = await self.kv.get(name)
        except KeyNotFoundError:
            return None
        except (TimeoutError, nats.errors.Error) as exc:
            raise Unavailable(f"the key store ({self.bucket}) did not answer: {exc}") from exc
        return entry.value or None

    async def load(self, key_ids: Iterable[str | None]) -> None:
        """Fetch the keys not cached (or cached too long ago); absent ones read as erased (asked again after the TTL)."""
        wanted = sorted({k for k in key_ids if k and not self._fresh(k)})
        found = await asyncio.gather(*(self._get(f"dk.{key_id}") for key_id in wanted))
        for key_id, key in zip(wanted, found, strict=True):
            self._keep(key_id, key)

    async def _get_or_create(self, name: str) -> bytes:
        value = await self._get(name)
        if value is not None:
            return value
        return await self._create_or_read(name, personal.new_key())

    async def _create_or_read(self, name: str, mine: bytes) -> bytes:
        """Creates ``name`` with ``mine``; if another replica (or a concurrent request) created it
        first, reads theirs. On a cluster a read may be answered by a node that has not applied a
        write yet (direct gets), so a value just created is never read back, and another's is read
        until it shows."""
        try:
            await self.kv.create(name, mine)
            return mine
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            # Theirs exists (nats-py's create then reads it, and that read may miss it, as above).
            pass
        except (TimeoutError, nats.errors.Error) as exc:
            raise Unavailable(f"the key store ({self.bucket}) did not answer: {exc}") from exc
        for pause in (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0):
            await asyncio.sleep(pause)
            value = await self._get(name)
            if value is not None:
                return value
        raise Unavailable(f"the key store ({self.bucket}) lost {name} while creating it")

    async def ensure(self, key_id: str) -> None:
        if not self._fresh(key_id) or self._cache[key_id][0] is None:
            self._keep(key_id, await self._get_or_create(f"dk.{key_id}"))

    async def secret(self) -> bytes:
        """The HMAC secret of the erasure index."""
        return await self._named_secret(SECRET_KEY)

    async def command_secret(self) -> bytes:
        return await self._named_secret(COMMAND_SECRET_KEY)

    async def _named_secret(self, name: str) -> bytes:
        if name not in self._secrets:
            self._secrets[name] = await self._get_or_create(name)
        return self._secrets[name]

    async def prepare(self, events: Sequence[Event], command_id: str) -> None:
        """Before an append: the data key of each event with personal fields, and the erasure index."""
        for event in events:
            if not personal.plan_for(type(event)):
                continue
            await self.ensure(personal.key_id_for(event, command_id))
            for value in personal.lookup_values(event):
                digest = personal.lookup_hash(await self.secret(), value)
                await self.kv.put(f"ix.{digest}.{event.aggregate}.{event.aggregate_id}", b"")

    async def pseudonym(self, actor: str) -> str:
        """What ``ce-actor`` records for ``actor``: a system's name as it is, a person's pseudonym.

        The pseudonym is random, made once per person and kept with the name under
        ``pa.<hmac>``; :meth:`forget_actor` erases that link.
        """
        if actor.startswith(SYSTEM_ACTOR_PREFIX) or actor.startswith(PSEUDONYM_PREFIX):
            return actor
        known = self._pseudonyms.get(actor)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        name = f"pa.{personal.lookup_hash(await self._named_secret(ACTOR_SECRET_KEY), actor)}"
        value = await self._get(name)
        if value is None:
            mine = json.dumps({"pseudonym": PSEUDONYM_PREFIX + os.urandom(8).hex(), "actor": actor}).encode()
            value = await self._create_or_read(name, mine)
        pseudonym = json.loads(value)["pseudonym"]
        self._pseudonyms[actor] = (pseudonym, time.monotonic() + KEY_TTL_SECONDS)
        while len(self._pseudonyms) > self.capacity:
            self._pseudonyms.popitem(last=False)
        return pseudonym

    async def forget_actor(self, actor: str) -> bool:
        """Erase the link between a person and their pseudonym; whether there was one."""
        self._pseudonyms.pop(actor, None)
        name = f"pa.{personal.lookup_hash(await self._named_secret(ACTOR_SECRET_KEY), actor)}"
        held = await self._last_per_subject(name)
        for _, seq in held:
            await self._secure_delete(seq)
        if held:
            await self.kv.purge(name)
        return bool(held)

    # -- the erasure side ----------------------------------------------------
    async def _last_per_subject(self, subject_filter: str) -> list[tuple[str, int]]:
        """``(key, revision)`` of every live key matching ``subject_filter`` (a KV key with wildcards)."""
        prefix = f"$KV.{self.bucket}."
        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox)
        found: list[tuple[str, int]] = []
        try:
            request = {"multi_last": [prefix + subject_filter], "batch": 1000}
            await self.nc.publish(f"$JS.API.DIRECT.GET.{self.stream}", json.dumps(request).encode(), reply=inbox)
            async with asyncio.timeout(self.timeout):
                while True:
                    msg = await sub.next_msg(timeout=self.timeout)
                    headers = msg.headers or {}
                    if headers.get("Status") in ("404", "204"):
                        return found
                    if headers.get("Status"):
                        raise Unavailable(f"the key store ({self.bucket}) answered {headers.get('Status')}")
                    if headers.get("KV-Operation") in ("DEL", "PURGE"):
                        continue
                    found.append((headers["Nats-Subject"][len(prefix) :], int(headers["Nats-Sequence"])))
        except (TimeoutError, nats.errors.Error) as exc:
            raise Unavailable(f"the key store ({self.bucket}) did not answer: {exc}") from exc
        finally:
            await sub.unsubscribe()

    async def keys_of(self, aggregate: str, aggregate_id: str) -> list[str]:
        """The key ids of the data keys still held for one aggregate."""
        return sorted(name[3:] for name, _ in await self._last_per_subject(f"dk.{aggregate}.{aggregate_id}.*"))

    async def find(self, address: str) -> list[tuple[str, str]]:
        """The aggregates whose personal data was recorded with this address (through the keyed hash)."""
        digest = personal.lookup_hash(await self.secret(), address)
        entries = await self._last_per_subject(f"ix.{digest}.*.*")
        return sorted({tuple(name.split(".")[2:4]) for name, _ in entries})  # type: ignore[misc]

    async def erase(self, key_ids: Iterable[str], aggregate: str, aggregate_id: str) -> None:
        """Erase data keys for good (overwritten on disk, then purged) and the aggregate's index entries."""
        key_ids = list(key_ids)
        self.forget(key_ids)
        names = [f"dk.{k}" for k in key_ids]
        index = [name for name, _ in await self._last_per_subject(f"ix.*.{aggregate}.{aggregate_id}")]
        for name in names + index:
            for _, seq in await self._last_per_subject(name):
                await self._secure_delete(seq)
            try:
                await self.kv.purge(name)
            except (TimeoutError, nats.errors.Error) as exc:
                raise Unavailable(f"the key store ({self.bucket}) did not purge {name}: {exc}") from exc

    async def _secure_delete(self, seq: int) -> None:
        try:
            reply = await self.nc.request(
                f"$JS.API.STREAM.MSG.DELETE.{self.stream}", json.dumps({"seq": seq}).encode(), timeout=self.timeout
            )
        except (TimeoutError, nats.errors.Error) as exc:
            raise Unavailable(f"the key store ({self.bucket}) did not erase #{seq}: {exc}") from exc
        answer = json.loads(reply.data or b"{}")
        # 10037 / 10057: no such message (a concurrent erasure got there first).
        if not answer.get("success") and answer.get("error", {}).get("err_code") not in (10037, 10057):
            raise Unavailable(f"the key store ({self.bucket}) refused to erase #{seq}: {answer.get('error')}")


async def open_key_ring(
    nc: NATS, service: str, event_classes: Iterable[type[Event]], wait: float = 0.0, delay: float = 1.0
) -> KeyRing | None:
    """The service's key ring when any of its events has personal fields (else None); raises
    :class:`KeyStoreMissing` when the bucket was not provisioned. JetStream not answering (a cluster busy
    or electing a leader) is retried for up to ``wait`` seconds, as the stream's check before it is."""
    if not any(personal.plan_for(cls) for cls in event_classes):
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            return await KeyRing(nc, service).open()
        except (TimeoutError, nats.errors.Error) as exc:
            if loop.time() + delay >= deadline:
                raise
            log.warning("the key store of %s did not answer (%r); retrying in %.0fs", service, exc, delay)
        await asyncio.sleep(delay)
