"""The throwaway servers from conftest work, and keep their data across restarts."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

import nats
import nats.errors
import pytest
from pymongo import AsyncMongoClient
from pymongo.write_concern import WriteConcern

from mignet_runtime.localstack import (
    ManagedProcess,
    free_port,
    port_in_use,
    skip_reason,
    wait_for_log,
)

pytestmark = pytest.mark.integration


async def test_nats_serves_jetstream(servers):
    nc = await nats.connect(servers.nats_url, connect_timeout=5)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_mongodb_answers_ping(servers):
    client = AsyncMongoClient(servers.mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        assert (await client.admin.command("ping"))["ok"] == 1
    finally:
        await client.close()


_PREFIXES_SEEN: set[str] = set()


@pytest.mark.parametrize("run", [1, 2, 3])
def test_db_prefix_is_unique_per_test(db_prefix, run):
    # Three tests in a row: each gets a prefix of its own (a session-wide or fixed one fails the second).
    assert re.fullmatch(r"t[0-9a-f]{8}", db_prefix)
    assert db_prefix not in _PREFIXES_SEEN
    _PREFIXES_SEEN.add(db_prefix)


async def test_data_survives_restarts(spawn_servers, db_prefix):
    servers = spawn_servers()
    stream, subject = f"{db_prefix.upper()}", f"{db_prefix}.events.x"

    nc = await nats.connect(servers.nats_url)
    await nc.jetstream().add_stream(name=stream, subjects=[f"{db_prefix}.events.>"])
    await nc.jetstream().publish(subject, b"kept")
    await nc.close()
    client = AsyncMongoClient(servers.mongodb_url)
    # SecantusDB, like mongod, may lose an acknowledged write on a crash unless it was journaled.
    things = client[f"{db_prefix}_read"].get_collection("things", write_concern=WriteConcern(j=True))
    await things.insert_one({"_id": 1, "v": "kept"})
    await client.close()

    servers.nats.restart()
    servers.mongo.restart(crash=True)
    servers.stop()
    servers.nats.start()
    servers.mongo.start()

    nc = await nats.connect(servers.nats_url)
    try:
        msg = await nc.jetstream().get_msg(stream, seq=1)
        assert msg.data == b"kept"
    finally:
        await nc.close()
    client = AsyncMongoClient(servers.mongodb_url)
    try:
        assert (await client[f"{db_prefix}_read"].things.find_one({"_id": 1}))["v"] == "kept"
    finally:
        await client.close()


FAKE_SERVICE = """
import os, signal, socket, sys, time
from urllib.parse import urlsplit
from mignet_runtime.settings import redact_url
def drain(*_):
    # The supervisor must stop services while the servers they drain into are still up.
    port = int(os.environ["NATS_URL"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        print("draining with nats still up", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, drain)
mongo = os.environ["MONGODB_URL"]
print("ready", os.environ["NATS_URL"], redact_url(mongo), "as", os.environ.get("NATS_USER"), urlsplit(mongo).username, flush=True)
while True:
    time.sleep(0.1)
"""


async def _check_secured(url: str, operator_password: str) -> None:
    """Anonymous connections are refused; the operator gets in and sees the provisioned stream."""
    with pytest.raises(nats.errors.Error, match="(?i)authorization violation"):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2, error_cb=_ignore)
    nc = await nats.connect(
        url, user="operator", password=operator_password, inbox_prefix="_INBOX_operator", allow_reconnect=False
    )
    try:
        info = await nc.jetstream(timeout=2).stream_info("REVIEWS")
        assert info.config.deny_purge and info.config.max_age == 0
    finally:
        await nc.close()


async def _ignore(_: Exception) -> None:
    return None


def test_run_supervises_services_and_stops_everything_on_sigint(tmp_path):
    """`make run` in small: the services run with the URLs (a fake reviews, the real notifier with its
    local key, allowance and SMTP sink), Ctrl-C stops all.

    Its nats-server runs deploy/nats/nats.conf with dev passwords, provisioned, and each
    service connects as its own user. (Skipping a missing service is test_skip_reason_...: every
    service exists now.)"""
    package = tmp_path / "pkgs" / "mignet_reviews"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(FAKE_SERVICE)
    nats_port, mongo_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(package.parent), "NO_COLOR": "1"}
    env.pop("NATS_URL", None)
    env.pop("MONGODB_URL", None)
    argv = [
        sys.executable,
        "-m",
        "mignet_runtime.localstack",
        "run",
        "--services",
        "reviews,notifier",
        "--data-dir",
        str(tmp_path / "var"),
        "--nats-port",
        str(nats_port),
        "--mongo-port",
        str(mongo_port),
        "--nats-monitor-port",
        "0",
    ]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready: set[str] = set()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip())
            for name in ("reviews", "notifier"):
                if line.startswith(name) and " ready" in line:
                    ready.add(name)
            if ready == {"reviews", "notifier"}:
                break
        else:
            pytest.fail("reviews or notifier never came up:\n" + "\n".join(lines))
        operator_env = tmp_path / "var" / "operator.env"
        passwords = tmp_path / "var" / "nats-passwords.env"
        assert operator_env.stat().st_mode & 0o777 == 0o600 and passwords.stat().st_mode & 0o777 == 0o600
        exported = dict(item.split("=", 1) for item in operator_env.read_text().split()[1:])
        assert exported["NATS_USER"] == "operator" and exported["NATS_URL"] == f"nats://127.0.0.1:{nats_port}"
        asyncio.run(_check_secured(exported["NATS_URL"], exported["NATS_PASSWORD"]))
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "\n".join(lines) + "\n" + rest
    assert proc.returncode == 0, output
    # The notifier's local set-up: a key kept under var/ (0600), loopback allowed, mail to var/mail/.
    key = tmp_path / "var" / "notifier-secret-key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.read_text().strip() not in output
    assert "SMTP sink    smtp://127.0.0.1:" in output and f"(mail lands in {tmp_path / 'var' / 'mail'})" in output
    assert "skipping" not in output
    # The stack's log ends by saying so, after the services' own last lines.
    assert output.rstrip().splitlines()[-1] == "localstack: stopped", output
    # Names are padded to the longest ("notifier").
    # Each service as its own MongoDB user too (SecantusDB --auth, users made by the stack).
    mongo_url = f"mongodb://***@127.0.0.1:{mongo_port}/?authSource=admin"
    assert f"reviews  | ready nats://127.0.0.1:{nats_port} {mongo_url} as reviews reviews" in output
    mongo_passwords = tmp_path / "var" / "mongo-passwords.env"
    assert mongo_passwords.stat().st_mode & 0o777 == 0o600
    assert "localstack: mongo: user reviews: readWrite on mignet_reviews (created)" in output
    assert all(line.split("=", 1)[1] not in output for line in mongo_passwords.read_text().split())
    assert "provision: stream REVIEWS: created" in output and "deploy/nats/nats.conf" in output
    assert exported["NATS_PASSWORD"] not in output  # passwords stay in the 0600 files
    assert "reviews  | draining with nats still up" in output
    assert not port_in_use("127.0.0.1", nats_port) and not port_in_use("127.0.0.1", mongo_port)


def test_skip_reason_tells_an_unwritten_service_from_an_uninstalled_one(tmp_path):
    assert skip_reason("notifier", tmp_path) == "there is no services/notifier/ in this checkout yet"
    package = tmp_path / "notifier" / "mignet_notifier"
    package.mkdir(parents=True)
    (package / "__main__.py").write_text("")
    assert "run `make install`" in skip_reason("notifier", tmp_path)


def _stack_argv(tmp_path, services: str, nats_port: int, mongo_port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mignet_runtime.localstack",
        "run",
        "--services",
        services,
        "--data-dir",
        str(tmp_path / "var"),
        "--nats-port",
        str(nats_port),
        "--mongo-port",
        str(mongo_port),
        "--nats-monitor-port",
        "0",
    ]


def test_run_with_the_real_registry_and_a_standby_replica_says_what_each_does(tmp_path):
    """The real registry under the supervisor: its streams exist before it starts (no 'does not
    exist yet'), it says which projections it runs; a second replica says it stands by; the log
    ends with 'stopped'."""
    nats_port, mongo_port = free_port(), free_port()
    env = {**os.environ, "NO_COLOR": "1", "LOG_LEVEL": "INFO"}
    for name in ("NATS_URL", "MONGODB_URL", "NATS_USER", "NATS_PASSWORD"):
        env.pop(name, None)
    proc = subprocess.Popen(
        _stack_argv(tmp_path, "registry", nats_port, mongo_port),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    standby: ManagedProcess | None = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("registry") and " ready (role " in line:
                break
        else:
            pytest.fail("registry never came up:\n" + "\n".join(lines))
        passwords = dict(line.split("=", 1) for line in (tmp_path / "var" / "nats-passwords.env").read_text().split())
        mongo = dict(line.split("=", 1) for line in (tmp_path / "var" / "mongo-passwords.env").read_text().split())
        mongo_password = mongo["REGISTRY_MONGO_PASSWORD"]
        standby = ManagedProcess(
            "registry-standby",
            [sys.executable, "-m", "mignet_registry"],
            env={
                **env,
                "NATS_URL": f"nats://127.0.0.1:{nats_port}",
                "MONGODB_URL": f"mongodb://registry:{mongo_password}@127.0.0.1:{mongo_port}/?authSource=admin",
                "NATS_USER": "registry",
                "NATS_PASSWORD": passwords["REGISTRY_NATS_PASSWORD"],
                "MIGNET_LOG_FORMAT": "text",  # as make run's own services write it
            },
            log_path=tmp_path / "standby.log",
        ).start()
        wait_for_log(standby, " ready (role all)", timeout=60)
        standby_log = standby.log_tail(10_000)
        standby.stop(20)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if standby is not None and standby.is_running:
            standby.kill()
        if proc.poll() is None:
            proc.kill()
    output = "\n".join(lines) + "\n" + rest
    assert proc.returncode == 0, output
    ready = [line for line in output.splitlines() if " ready (role " in line]
    assert len(ready) == 1 and ready[0].endswith(
        "registry ready (role all): stream REGISTRY, projections networks, champions, working-groups, support-requests"
    )
    standby_ready = [line for line in standby_log.splitlines() if " ready (role " in line]
    assert len(standby_ready) == 1, standby_log
    assert standby_ready[0].endswith("registry ready (role all): stream REGISTRY, standing by for the projection lease")
    # Provisioned before the services start: no stream is ever missing.
    assert "does not exist yet" not in output
    last = output.rstrip().splitlines()
    assert last[-1] == "localstack: stopped" and any(line.endswith("registry stopped") for line in last[:-1]), output
