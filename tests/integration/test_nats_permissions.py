"""deploy/nats/nats.conf, run by the real nats-server, grants each user what it needs and nothing of the others'.

The production conf is used as is; only ports and the store directory are
overridden on the command line.
"""

from __future__ import annotations

import asyncio

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.js.api import ConsumerConfig

from mignet_runtime.localstack import free_port, nats_server_binary, start_nats

pytestmark = pytest.mark.integration

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats.conf"
USERS = ("registry", "reviews", "notifier", "operator", "sys")


def _password() -> str:
    # A leading letter: nats.conf parses a variable's value, so "12e4..." would become a number.
    return "p" + secrets.token_hex(16)


@dataclass
class SecuredNats:
    url: str
    passwords: dict[str, str]

    async def connect(self, user: str) -> Conn:
        conn = Conn()
        conn.nc = await nats.connect(
            self.url, user=user, password=self.passwords[user], error_cb=conn.on_error,
            allow_reconnect=False, connect_timeout=5,
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

    async def denied(self, subject: str) -> bool:
        """Whether the server refused this connection a publish to or subscribe on ``subject``."""
        # nats-py's flush() may put its PING on the wire ahead of buffered publishes;
        # the second PING surely follows them, and the server answers in order.
        await self.nc.flush()
        await self.nc.flush()
        # The error callback runs as its own task, so it may land just after the PONG.
        for _ in range(40):
            # nats-py lower-cases the whole error line, subject included.
            if any("permissions violation" in e and f'"{subject.lower()}"' in e for e in self.errors):
                return True
            await asyncio.sleep(0.025)
        return False

    async def publish_is_denied(self, subject: str) -> bool:
        await self.nc.publish(subject, b"{}")
        return await self.denied(subject)

    async def close(self) -> None:
        await self.nc.close()


def _env(passwords: dict[str, str], store_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, **{f"{u.upper()}_NATS_PASSWORD": p for u, p in passwords.items()}}
    if store_dir is not None:
        env["NATS_STORE_DIR"] = str(store_dir)
    return env


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredNats]:
    root = tmp_path_factory.mktemp("secured-nats")
    passwords = {u: _password() for u in USERS}
    proc, url = start_nats(
        root / "store", config=CONF, env=_env(passwords), monitor_port=free_port(), log_path=root / "nats.log"
    )
    try:
        yield SecuredNats(url, passwords)
    finally:
        proc.stop()


@pytest.fixture
async def as_user(secured: SecuredNats):
    opened: list[Conn] = []

    async def connect(user: str) -> Conn:
        opened.append(conn := await secured.connect(user))
        return conn

    yield connect
    for conn in opened:
        await conn.close()


async def _ensure_stream(conn: Conn, name: str) -> None:
    await conn.js().add_stream(name=name, subjects=[f"{name.lower()}.events.>"], allow_direct=True)


def test_conf_is_accepted_and_refuses_a_missing_password(tmp_path):
    passwords = {u: _password() for u in USERS}
    ok = subprocess.run(
        [nats_server_binary(), "-c", str(CONF), "-t"], env=_env(passwords, tmp_path), capture_output=True
    )
    assert ok.returncode == 0, ok.stderr.decode()
    del passwords["reviews"]
    env = {k: v for k, v in _env(passwords, tmp_path).items() if k != "REVIEWS_NATS_PASSWORD"}
    missing = subprocess.run([nats_server_binary(), "-c", str(CONF), "-t"], env=env, capture_output=True)
    assert missing.returncode != 0 and b"REVIEWS_NATS_PASSWORD" in missing.stderr + missing.stdout


async def _ignore(err: Exception) -> None:
    pass


@pytest.mark.parametrize("credentials", [{}, {"user": "registry", "password": "wrong"}], ids=["anonymous", "wrong"])
async def test_connections_without_valid_credentials_are_refused(secured, credentials):
    with pytest.raises(nats.errors.Error, match="(?i)authorization violation"):
        await nats.connect(
            secured.url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0, error_cb=_ignore,
            **credentials,
        )


async def test_registry_publishes_only_its_own_events(as_user):
    registry = await as_user("registry")
    await _ensure_stream(registry, "REGISTRY")
    ack = await registry.js().publish("registry.events.x", b"{}")
    assert ack.stream == "REGISTRY"
    assert not await registry.denied("registry.events.x")
    assert await registry.publish_is_denied("reviews.events.x")
    assert await registry.publish_is_denied("registry.commands.x")


async def test_registry_cannot_touch_another_stream(as_user):
    registry = await as_user("registry")
    with pytest.raises(nats.errors.TimeoutError):
        await _ensure_stream(registry, "REVIEWS")
    assert await registry.denied("$JS.API.STREAM.CREATE.REVIEWS")


async def test_services_answer_requests_but_cannot_write_to_arbitrary_inboxes(as_user):
    registry, operator = await as_user("registry"), await as_user("operator")

    async def answer(msg):
        await msg.respond(json.dumps({"ok": True}).encode())

    await registry.nc.subscribe("registry.commands.>", queue="registry", cb=answer)
    await registry.nc.flush()
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
    await _ensure_stream(registry, "REGISTRY")
    await registry.js().publish("registry.events.network.n1.created", b"{}")

    sub = await reviews.js().pull_subscribe("registry.events.>", durable="reviews-projection", stream="REGISTRY")
    msgs = await sub.fetch(1, timeout=2)
    await msgs[0].ack_sync()
    assert msgs[0].subject.startswith("registry.events.")
    assert not reviews.errors

    await _ensure_stream(reviews, "REVIEWS")
    assert await reviews.publish_is_denied("registry.events.x")
    # It recreates its own consumers at its checkpoint, but may not touch the stream itself.
    assert await reviews.js().delete_consumer("REGISTRY", "reviews-projection")
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().delete_stream("REGISTRY")
    with pytest.raises(nats.errors.TimeoutError):
        await reviews.js().purge_stream("REGISTRY")


async def test_notifier_reads_both_streams_and_publishes_only_notifier_subjects(as_user):
    registry, reviews, notifier = await as_user("registry"), await as_user("reviews"), await as_user("notifier")
    await _ensure_stream(registry, "REGISTRY")
    await _ensure_stream(reviews, "REVIEWS")
    await reviews.js().publish("reviews.events.review.r1.opened", b"{}")

    for stream in ("REGISTRY", "REVIEWS"):
        sub = await notifier.js().pull_subscribe(
            f"{stream.lower()}.events.>", durable=f"notifier-{stream.lower()}", stream=stream
        )
        msgs = await sub.fetch(1, timeout=2)
        await msgs[0].ack_sync()
    await notifier.nc.publish("notifier.outbox.email", b"{}")
    assert not await notifier.denied("notifier.outbox.email")
    assert await notifier.publish_is_denied("registry.events.x")
    assert await notifier.publish_is_denied("reviews.events.x")


async def test_operator_tails_streams_with_ordered_consumers_only(as_user):
    registry, operator = await as_user("registry"), await as_user("operator")
    await _ensure_stream(registry, "REGISTRY")
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
    assert not await operator.publish_is_denied("reviews.commands.review.open")
    assert not await operator.publish_is_denied("registry.admin.rebuild")
    assert await operator.publish_is_denied("registry.events.x")
    assert await operator.publish_is_denied("registry.admin.progress.x")
    await operator.nc.subscribe("registry.admin.progress.>")
    assert not await operator.denied("registry.admin.progress.>")
    await operator.nc.subscribe("registry.events.>")
    assert await operator.denied("registry.events.>")


async def test_system_user_is_in_the_system_account(secured):
    nc = await nats.connect(secured.url, user="sys", password=secured.passwords["sys"], allow_reconnect=False)
    try:
        reply = await nc.request("$SYS.REQ.SERVER.PING", b"", timeout=2)
        assert json.loads(reply.data)["server"]["name"] == "mignet-nats"
    finally:
        await nc.close()
