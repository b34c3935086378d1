"""deploy/nats/nats.conf, run by the real nats-server, grants each user what it needs and nothing of the others'.

The production conf is used as is; only ports and the store directory are
overridden on the command line.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.js.api import ConsumerConfig

from mignet_notifier.app import make_spec
from mignet_notifier.config import NotifierConfig
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime.keystore import KeyRing, keys_bucket
from mignet_runtime.localstack import NATS_CONF, NATS_USERS, dev_passwords, nats_server_binary
from mignet_runtime.provision import lease_bucket
from mignet_runtime.settings import default_inbox_prefix

from secured_nats import NatsUrl, start_test_nats

pytestmark = pytest.mark.integration

CONF = NATS_CONF
USERS = NATS_USERS


@dataclass
class SecuredNats:
    url: NatsUrl

    @property
    def passwords(self) -> dict[str, str]:
        return self.url.passwords

    async def connect(self, user: str, inbox_prefix: str | None = None) -> Conn:
        """As ``user``, with that user's own inbox prefix (as the services and the CLI connect)."""
        conn = Conn()
        conn.nc = await nats.connect(
            self.url.plain,
            user=user,
            password=self.passwords[user],
            error_cb=conn.on_error,
            allow_reconnect=False,
            connect_timeout=5,
            inbox_prefix=inbox_prefix or default_inbox_prefix(user),
        )
        return conn


@dataclass
class Conn:
    nc: nats.NATS = None  # type: ignore[assignment]
    errors: list[str] = field(default_factory=list)

    async def on_error(self, err: Exception) -> None:
        self.errors.append(str(err))

    def js(self):
        return self.nc.jetstream(timeout=1)

    async def settle(self) -> None:
        """Return once the server has processed everything this connection sent so far.

        nats-py's flush() writes its PING straight to the socket while SUBs and PUBs
        still wait in the flusher's queue, so one flush may come back before the server
        saw them (a request right after subscribe+flush then met no responders). The
        first flush wakes the flusher before its PONG can arrive; the second PING
        follows what the flusher wrote, and the server answers in order."""
        await self.nc.flush()
        await self.nc.flush()

    async def denied(self, subject: str) -> bool:
        """Whether the server refused this connection a publish to or subscribe on ``subject``."""
        await self.settle()
        # The error callback runs as its own task, so it may land just after the PONG.
        for _ in range(40):
            # nats-py lower-cases the whole error line, subject included.
            if any("permissions violation" in e and f'"{subject.lower()}"' in e for e in self.errors):
                return True
            await asyncio.sleep(0.025)
        return False

    async def publish_is_denied(self, subject: str, data: bytes = b"{}") -> bool:
        await self.nc.publish(subject, data)
        return await self.denied(subject)

    def _refused(self, subject: str) -> bool:
        # nats-py lower-cases the whole error line, subject included.
        return any("permissions violation" in e and f'"{subject.lower()}"' in e for e in self.errors)

    async def allowed(self, subject: str) -> bool:
        """Whether the server accepted what this connection just did on ``subject``: proven, not timed out.

        A quiet second proves nothing (the refusal may come later under load). The server answers a
        connection's protocol in order, and nats-py runs the error callback inline, in order: so once
        the refusal of a later publish that every user is denied has arrived, a refusal of ``subject``
        would have arrived before it."""
        sentinel = f"mignet-test.denied-to-everyone.{uuid.uuid4().hex}"
        await self.nc.publish(sentinel, b"")
        await self.nc.flush()
        for _ in range(400):  # the sentinel's refusal is certain: up to 10 s under load
            if self._refused(sentinel):
                return not self._refused(subject)
            await asyncio.sleep(0.025)
        raise AssertionError(f"the server never refused {sentinel}: cannot tell whether {subject} was allowed")

    async def publish_is_allowed(self, subject: str, data: bytes = b"{}") -> bool:
        await self.nc.publish(subject, data)
        return await self.allowed(subject)

    async def close(self) -> None:
        await self.nc.close()


def _env(passwords: dict[str, str], store_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, **{f"{u.upper()}_NATS_PASSWORD": p for u, p in passwords.items()}}
    if store_dir is not None:
        env["NATS_STORE_DIR"] = str(store_dir)
    return env


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredNats]:
    """deploy/nats/nats.conf on a real nats-server, provisioned by the admin user as in production."""
    root = tmp_path_factory.mktemp("secured-nats")
    proc, url = start_test_nats(root / "store", log_path=root / "nats.log")
    try:
        yield SecuredNats(url)
    finally:
        proc.stop()


@pytest.fixture
async def as_user(secured: SecuredNats):
    opened: list[Conn] = []

    async def connect(user: str, **options) -> Conn:
        opened.append(conn := await secured.connect(user, **options))
        return conn

    yield connect
    for conn in opened:
        await conn.close()


def test_conf_is_accepted_and_refuses_a_missing_password(tmp_path):
    passwords = dev_passwords()
    ok = subprocess.run(
        [nats_server_binary(), "-c", str(CONF), "-t"], env=_env(passwords, tmp_path), capture_output=True
    )
    assert ok.returncode == 0, ok.stderr.decode()
    for user in ("reviews", "admin"):
        env = {k: v for k, v in _env(passwords, tmp_path).items() if k != f"{user.upper()}_NATS_PASSWORD"}
        missing = subprocess.run([nats_server_binary(), "-c", str(CONF), "-t"], env=env, capture_output=True)
        assert missing.returncode != 0 and f"{user.upper()}_NATS_PASSWORD".encode() in missing.stderr + missing.stdout


def test_monitoring_listens_on_loopback_only():
    assert re.search(r"^http: 127\.0\.0\.1:8222$", CONF.read_text(), re.MULTILINE)


async def _ignore(err: Exception) -> None:
    pass


@pytest.mark.parametrize("credentials", [{}, {"user": "registry", "password": "wrong"}], ids=["anonymous", "wrong"])
async def test_connections_without_valid_credentials_are_refused(secured, credentials):
    with pytest.raises(nats.errors.Error, match="(?i)authorization violation"):
        await nats.connect(
            secured.url.plain,
            allow_reconnect=False,
            connect_timeout=2,
            max_reconnect_attempts=0,
            error_cb=_ignore,
            **credentials,
        )


async def test_registry_publishes_only_its_own_events(as_user):
    registry = await as_user("registry")
    ack = await registry.js().publish("registry.events.x", b"{}")
    assert ack.stream == "REGISTRY"
    assert await registry.allowed("registry.events.x")
    assert await registry.publish_is_denied("reviews.events.x")
    assert await registry.publish_is_denied("registry.commands.x")


async def test_registry_cannot_touch_another_stream(as_user):
    registry = await as_user("registry")
    with pytest.raises(nats.errors.TimeoutError):
        await registry.js().add_stream(name="REVIEWS", subjects=["reviews.events.>"])
    assert await registry.denied("$JS.API.STREAM.CREATE.REVIEWS")


@pytest.mark.parametrize("user", ["registry", "reviews"])
async def test_a_service_cannot_change_delete_or_purge_its_own_stream(as_user, user):
    """Issue 6.3: the registry's own credentials once aged REGISTRY out with max_age = 1s."""
    service, admin = await as_user(user), await as_user("admin")
    stream = user.upper()
    before = (await admin.js().stream_info(stream)).config
    await service.js().publish(f"{user}.events.keep.me", b"{}")

    with pytest.raises(nats.errors.TimeoutError):
        await service.js().update_stream(before.evolve(max_age=1.0))
    assert await service.denied(f"$JS.API.STREAM.UPDATE.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await service.js().add_stream(before.evolve(max_age=1.0))
    assert await service.denied(f"$JS.API.STREAM.CREATE.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await service.js().purge_stream(stream)
    assert await service.denied(f"$JS.API.STREAM.PURGE.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await service.js().delete_stream(stream)
    assert await service.denied(f"$JS.API.STREAM.DELETE.{stream}")
    with pytest.raises(nats.errors.TimeoutError):
        await service.js().delete_msg(stream, 1)
    assert await service.denied(f"$JS.API.STREAM.MSG.DELETE.{stream}")

    after = await admin.js().stream_info(stream)
    assert after.config.max_age == 0 and after.config.deny_delete and after.config.deny_purge
    assert after.state.messages >= 1


async def test_services_answer_requests_but_cannot_write_to_arbitrary_inboxes(as_user):
    registry, operator = await as_user("registry"), await as_user("operator")

    async def answer(msg):
        await msg.respond(json.dumps({"ok": True}).encode())

    await registry.nc.subscribe("registry.commands.>", queue="registry", cb=answer)
    await registry.settle()
    reply = await operator.nc.request("registry.commands.network.create", b"{}", timeout=2)
    assert json.loads(reply.data) == {"ok": True}
    assert not registry.errors
    assert await registry.publish_is_denied("_INBOX.someone.else")


async def test_a_service_cannot_listen_to_another_services_commands(as_user):
    reviews = await as_user("reviews")
    await reviews.nc.subscribe("registry.commands.>")
    assert await reviews.denied("registry.commands.>")


async def test_reviews_reads_registry_through_its_own_durable_consumer(as_user):
    registry, reviews = await as_user("registry"), await as_user("reviews")
    await registry.js().publish("registry.events.network.n1.created", b"{}")

    sub = await reviews.js().pull_subscribe("registry.events.>", durable="reviews-registry-networks", stream="REGISTRY")
    msgs = await sub.fetch(1, timeout=2)
    await msgs[0].ack_sync()
    assert msgs[0].subject.startswith("registry.events.")
    assert not reviews.errors

    assert await reviews.publish_is_denied("registry.events.x")
    # It recreates its own consumers at its checkpoint, but may not touch the stream itself.
    await sub.unsubscribe()
    assert await reviews.js().delete_consumer("REGISTRY", "reviews-registry-networks")
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().delete_stream("REGISTRY")
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().purge_stream("REGISTRY")


async def test_a_service_may_use_only_consumers_of_its_own_names(as_user):
    """Issue 6.4: reviews could pull, acknowledge and delete the registry's own durable consumers."""
    registry, reviews, admin = await as_user("registry"), await as_user("reviews"), await as_user("admin")
    await registry.js().publish("registry.events.network.n9.created", b"{}")
    own = await registry.js().pull_subscribe("registry.events.>", durable="registry-networks", stream="REGISTRY")
    (msg,) = await own.fetch(1, timeout=2)  # delivered to the registry, not yet acknowledged
    assert msg.reply.startswith("$JS.ACK.REGISTRY.registry-networks.")
    pending = (await admin.js().consumer_info("REGISTRY", "registry-networks")).num_ack_pending
    assert pending == 1

    pull = "$JS.API.CONSUMER.MSG.NEXT.REGISTRY.registry-networks"
    await reviews.nc.publish(
        pull, json.dumps({"batch": 1, "expires": 500_000_000}).encode(), reply=reviews.nc.new_inbox()
    )
    assert await reviews.denied(pull)
    assert await reviews.publish_is_denied(msg.reply, b"+ACK")
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().delete_consumer("REGISTRY", "registry-networks")
    assert await reviews.denied("$JS.API.CONSUMER.DELETE.REGISTRY.registry-networks")
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().add_consumer("REGISTRY", ConsumerConfig(durable_name="registry-networks"))
    assert await reviews.denied("$JS.API.CONSUMER.DURABLE.CREATE.REGISTRY.registry-networks")
    # Nor any consumer on its own stream under a name the code does not use.
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().add_consumer("REVIEWS", ConsumerConfig(durable_name="reviews-anything"))
    assert await reviews.denied("$JS.API.CONSUMER.DURABLE.CREATE.REVIEWS.reviews-anything")

    info = await admin.js().consumer_info("REGISTRY", "registry-networks")
    assert info.num_ack_pending == 1  # the forged ack never reached the server
    await msg.ack_sync()
    assert not registry.errors


@pytest.mark.parametrize("user", ["registry", "reviews", "notifier", "operator", "integrator"])
async def test_no_user_reads_replies_meant_for_another(as_user, user):
    """Issue 6.4: every service could subscribe to _INBOX.> and read an operator's get-network reply."""
    conn = await as_user(user)
    await conn.nc.subscribe("_INBOX.>")
    assert await conn.denied("_INBOX.>")
    for other in ("registry", "operator"):
        if other != user:
            await conn.nc.subscribe(f"_INBOX_{other}.>")
            assert await conn.denied(f"_INBOX_{other}.>")
    await conn.nc.subscribe(f"_INBOX_{user}.anything")
    assert await conn.allowed(f"_INBOX_{user}.anything")


async def test_the_default_inbox_prefix_gets_no_replies(as_user):
    """A client that forgets its inbox prefix fails at once, loudly, rather than reading others' inboxes."""
    reviews = await as_user("reviews", inbox_prefix="_INBOX")
    with pytest.raises(nats.errors.Error):
        await reviews.js().stream_info("REVIEWS")


async def test_each_service_uses_its_own_lease_bucket_only(as_user):
    registry = await as_user("registry")
    kv = await registry.js().key_value(lease_bucket("registry"))
    revision = await kv.create("networks", b"registry-1")
    assert (await kv.get("networks")).value == b"registry-1"
    revision = await kv.update("networks", b"registry-1", last=revision)
    await kv.delete("networks", last=revision)
    await kv.create("networks", b"registry-2")  # a deleted key may be taken again
    await kv.purge("networks")
    assert not registry.errors

    with pytest.raises(nats.errors.Error):
        await registry.js().key_value(lease_bucket("reviews"))
    assert await registry.denied(f"$JS.API.STREAM.INFO.KV_{lease_bucket('reviews')}")
    assert await registry.publish_is_denied(f"$KV.{lease_bucket('reviews')}.reviews")
    with pytest.raises(nats.errors.TimeoutError):
        await registry.js().create_key_value(bucket="registry_scratch")
    assert await registry.denied("$JS.API.STREAM.CREATE.KV_registry_scratch")


def _granted_consumers(user: str) -> dict[str, set[str]]:
    """The consumers nats.conf lets ``user`` pull from, by stream, read from its permission block."""
    text = CONF.read_text()
    block = text[text.index(f"{user.upper()}_PERMISSIONS = {{") :]
    block = block[: block.index("\n}\n")]
    granted: dict[str, set[str]] = {}
    for stream, name in re.findall(r'"\$JS\.API\.CONSUMER\.MSG\.NEXT\.([A-Z_]+)\.([^".>]+)"', block):
        granted.setdefault(stream, set()).add(name)
    for verb in ("DURABLE.CREATE", "INFO", "DELETE"):
        names = re.findall(rf'"\$JS\.API\.CONSUMER\.{re.escape(verb)}\.([A-Z_]+)\.([^".>]+)"', block)
        assert {(s, n) for s, n in names} == {(s, n) for s, ns in granted.items() for n in ns}, (user, verb)
    assert ">" not in "".join(re.findall(r'"\$JS\.API\.CONSUMER\.[A-Z.]+\.[A-Z_]+\.>"', block)), user
    return granted


@pytest.mark.parametrize(
    "spec", [REGISTRY, REVIEWS, make_spec(NotifierConfig(secret_key=b"x" * 16))], ids=lambda spec: spec.name
)
def test_conf_grants_exactly_the_consumers_the_code_uses(spec):
    assert _granted_consumers(spec.name) == {s: set(names) for s, names in spec.consumers().items()}


async def test_notifier_reads_both_streams_and_publishes_only_notifier_subjects(as_user):
    registry, reviews, notifier = await as_user("registry"), await as_user("reviews"), await as_user("notifier")
    await registry.js().publish("registry.events.network.n3.created", b"{}")
    await reviews.js().publish("reviews.events.review.r1.opened", b"{}")

    for stream in ("REGISTRY", "REVIEWS"):
        sub = await notifier.js().pull_subscribe(
            f"{stream.lower()}.events.>", durable=f"notifier-{stream.lower()}", stream=stream
        )
        msgs = await sub.fetch(1, timeout=2)
        await msgs[0].ack_sync()
    await notifier.nc.publish("notifier.outbox.email", b"{}")
    assert await notifier.allowed("notifier.outbox.email")
    assert await notifier.publish_is_denied("registry.events.x")
    assert await notifier.publish_is_denied("reviews.events.x")
    assert await notifier.publish_is_denied("$JS.API.CONSUMER.MSG.NEXT.REGISTRY.registry-networks")


async def test_operator_tails_streams_with_ordered_consumers_only(as_user):
    registry, operator = await as_user("registry"), await as_user("operator")
    await registry.js().publish("registry.events.network.n2.created", b"{}")

    info = await operator.js().stream_info("REGISTRY")
    assert info.state.messages >= 1
    tail = await operator.js().subscribe("registry.events.>", ordered_consumer=True)
    msg = await tail.next_msg(timeout=2)
    assert msg.subject.startswith("registry.events.")
    await tail.unsubscribe()
    assert not operator.errors

    with pytest.raises(nats.errors.TimeoutError):
        await operator.js().add_consumer("REGISTRY", ConsumerConfig(durable_name="operator-sneaky"))
    assert await operator.denied("$JS.API.CONSUMER.DURABLE.CREATE.REGISTRY.operator-sneaky")
    # The one consumer-create subject the operator may use makes the server refuse durable consumers.
    request = {"stream_name": "REGISTRY", "config": {"durable_name": "operator-sneaky", "ack_policy": "explicit"}}
    reply = await operator.nc.request("$JS.API.CONSUMER.CREATE.REGISTRY", json.dumps(request).encode(), timeout=2)
    assert "error" in json.loads(reply.data)


async def test_operator_sends_commands_but_cannot_forge_events_or_progress(as_user):
    operator = await as_user("operator")
    assert await operator.publish_is_allowed("reviews.commands.review.open")
    assert await operator.publish_is_allowed("registry.admin.rebuild")
    assert await operator.publish_is_denied("registry.events.x")
    assert await operator.publish_is_denied("registry.admin.progress.x")
    await operator.nc.subscribe("registry.admin.progress.>")
    assert await operator.allowed("registry.admin.progress.>")
    await operator.nc.subscribe("registry.events.>")
    assert await operator.denied("registry.events.>")


async def test_system_user_is_in_the_system_account(secured):
    nc = await nats.connect(secured.url.plain, user="sys", password=secured.passwords["sys"], allow_reconnect=False)
    try:
        reply = await nc.request("$SYS.REQ.SERVER.PING", b"", timeout=2)
        assert json.loads(reply.data)["server"]["name"] == "mignet-nats"
    finally:
        await nc.close()


@pytest.mark.parametrize(("owner", "other"), [("registry", "reviews"), ("reviews", "registry")])
async def test_each_service_reads_and_erases_only_its_own_data_keys(as_user, owner, other):
    """The key buckets (personal data keys, docs/privacy.md): the owner uses its own; nobody else reads it."""
    mine = await as_user(owner)
    ring = await KeyRing(mine.nc, owner).open()
    await ring.ensure("network.n-perm.c1")
    await ring.load(["network.n-perm.c1"])
    assert ring.key("network.n-perm.c1") is not None
    assert await ring.keys_of("network", "n-perm") == ["network.n-perm.c1"]
    await ring.erase(["network.n-perm.c1"], "network", "n-perm")  # secure delete + purge: allowed to the owner
    assert await ring.keys_of("network", "n-perm") == []
    assert not mine.errors

    # The other service: no bucket info, no Direct Get, no message get, no write, no delete.
    intruder = await as_user(other)
    with pytest.raises(nats.errors.Error):
        await intruder.js().key_value(keys_bucket(owner))
    stream = f"KV_{keys_bucket(owner)}"
    assert await intruder.denied(f"$JS.API.STREAM.INFO.{stream}")
    assert await intruder.publish_is_denied(f"$JS.API.DIRECT.GET.{stream}")
    assert await intruder.publish_is_denied(f"$JS.API.DIRECT.GET.{stream}.$KV.{keys_bucket(owner)}.dk.x")
    assert await intruder.publish_is_denied(f"$JS.API.STREAM.MSG.GET.{stream}")
    assert await intruder.publish_is_denied(f"$JS.API.STREAM.MSG.DELETE.{stream}")
    assert await intruder.publish_is_denied(f"$KV.{keys_bucket(owner)}.dk.x")


async def test_the_operator_reads_streams_but_not_the_data_keys(as_user):
    operator = await as_user("operator")
    for service in ("registry", "reviews", "notifier"):
        stream = f"KV_{keys_bucket(service)}"
        assert await operator.publish_is_denied(f"$JS.API.DIRECT.GET.{stream}")
        assert await operator.publish_is_denied(f"$JS.API.DIRECT.GET.{stream}.$KV.{keys_bucket(service)}.dk.x")
        assert await operator.publish_is_denied(f"$JS.API.STREAM.MSG.GET.{stream}")
        assert await operator.publish_is_denied(f"$JS.API.CONSUMER.CREATE.{stream}")
        assert await operator.publish_is_denied(f"$KV.{keys_bucket(service)}.dk.x")
    assert await operator.publish_is_allowed("$JS.API.DIRECT.GET.REGISTRY")
