"""Every service starts as its own NATS user under deploy/nats/nats.conf, and checks its stream first.

Issue 6.1: with NATS_USER set, every service died at start (FastStream wants
``security=``, not ``user=``), and no test started a service with credentials.
Issue 6.3: services no longer create or "fix" their streams; they refuse to run
on a misconfigured one, and wait (then give up) for a missing one.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap

import nacl.signing
import nats
import nkeys
import pytest
from conftest import eventually

from mignet_registry.app import SPEC as REGISTRY
from mignet_runtime.client import MignetClient
from mignet_runtime.localstack import ManagedProcess, dev_passwords, free_port, start_nats, start_secured_nats, stop_all
from mignet_runtime.provision import provision_with
from mignet_runtime.service import build_app, wait_for_dependencies
from mignet_runtime.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def start_service(servers, fresh_nats, db_prefix, tmp_path):
    """``start_service(name, nats=..., **env)``: ``python -m mignet_<name>`` as its own NATS user."""
    started: list[ManagedProcess] = []

    def start(name: str, nats_url=None, **env: str) -> ManagedProcess:
        values = {
            "MIGNET_DB_PREFIX": db_prefix,
            "MIGNET_STARTUP_TIMEOUT": "20",
            "LOG_LEVEL": "INFO",
            "MIGNET_HTTP_PORT": str(free_port()),
            **env,
        }
        if nats_url is not None:
            environment = servers.env_for(name, nats=nats_url, **values)
        else:
            environment = servers.env_for(name, nats=fresh_nats, **values)
        process = ManagedProcess(
            name, [sys.executable, "-m", f"mignet_{name}"], env=environment, log_path=tmp_path / f"{name}.log"
        ).start()
        started.append(process)
        return process

    yield start
    stop_all(started)


async def _exit_code(process: ManagedProcess, timeout: float = 60.0) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while process.is_running:
        if loop.time() > deadline:
            raise AssertionError(f"{process.name} still runs after {timeout}s:\n{process.log_tail()}")
        await asyncio.sleep(0.1)
    return process.returncode


async def test_every_service_runs_as_its_own_user_under_nats_conf(start_service, fresh_nats, tmp_path):
    registry, reviews = start_service("registry"), start_service("reviews")
    nc = await nats.connect(fresh_nats.url_for("operator"), inbox_prefix="_INBOX_operator")
    try:
        client = MignetClient(nc, timeout=2)

        async def healthy(service: str):
            try:
                return await client.admin(service, "health")
            except Exception:
                return None

        assert (await eventually(lambda: healthy("registry"), timeout=60))["stream"] == "REGISTRY"
        assert (await eventually(lambda: healthy("reviews"), timeout=60))["stream"] == "REVIEWS"

        async def consuming(service: str):
            # Every projection has its durable consumer: created under its exact name, as nats.conf allows.
            rows = await client.admin(service, "projections.status")
            return rows if rows and all(row["pending"] is not None for row in rows) else None

        assert {r["consumer"] for r in await eventually(lambda: consuming("registry"), timeout=30)} == {
            "registry-networks",
            "registry-champions",
            "registry-working-groups",
            "registry-support-requests",
        }
        assert {r["consumer"] for r in await eventually(lambda: consuming("reviews"), timeout=30)} == {
            "reviews-reviews",
            "reviews-contributions",
            "reviews-registry-networks",
            "reviews-registry-champions",
            "reviews-registry-directory-networks",
            "reviews-registry-directory-champions",
            "reviews-registry-working-groups",
        }
    finally:
        await nc.close()
    for process in (registry, reviews):
        process.terminate()
        assert await _exit_code(process) == 0, process.log_tail()
        log = process.log_tail(10_000)
        assert "permissions violation" not in log.lower() and "Traceback" not in log, log
    server_log = (tmp_path / "nats.log").read_text()
    assert "Violation" not in server_log, [line for line in server_log.splitlines() if "Violation" in line]


async def test_a_service_refuses_to_run_on_a_misconfigured_stream(start_service, fresh_nats):
    nc = await nats.connect(fresh_nats)
    try:
        js = nc.jetstream()
        config = (await js.stream_info("REGISTRY")).config
        await js.update_stream(config.evolve(max_age=604800.0))  # someone shortened the system of record
        registry = start_service("registry")
        assert await _exit_code(registry) != 0
        log = registry.log_tail()
        assert "registry refuses to run: stream REGISTRY is misconfigured: max_age is 604800.0, expected 0.0" in log
        assert "mignet admin provision" in log and "Traceback" not in log

        # Provisioning puts it back, and the service starts.
        settings = Settings(**fresh_nats.credentials("admin"))
        steps = await provision_with(settings, ["registry"])
        assert [(s.target, s.outcome) for s in steps][0] == ("stream REGISTRY", "updated")
        assert (await js.stream_info("REGISTRY")).config.max_age == 0
        again = start_service("registry")
        client = MignetClient(nc, timeout=2)

        async def healthy():
            try:
                return await client.admin("registry", "health")
            except Exception:
                return None

        await eventually(healthy, timeout=60)
        assert again.is_running
    finally:
        await nc.close()


async def test_a_service_waits_for_a_missing_stream_then_says_to_provision(start_service, tmp_path):
    passwords = dev_passwords()
    proc, plain = start_secured_nats(tmp_path / "unprovisioned", passwords, log_path=tmp_path / "bare.log")
    try:
        from secured_nats import NatsUrl

        registry = start_service("registry", nats_url=NatsUrl(plain, passwords), MIGNET_STARTUP_TIMEOUT="3")
        assert await _exit_code(registry) != 0
        log = registry.log_tail()
        assert log.count("does not exist yet") == 1 and "Traceback" not in log  # one quiet line while waiting
        assert "still does not exist after 3s: run `mignet admin provision`" in log
    finally:
        proc.stop(5)


async def test_wrong_credentials_stop_the_service_at_once_without_leaking_the_password(start_service, fresh_nats):
    registry = start_service("registry", NATS_PASSWORD="pwrongwrongwrong")
    assert await _exit_code(registry, timeout=30) != 0
    log = registry.log_tail()
    assert "refused registry's credentials (authorization violation)" in log
    assert "pwrongwrongwrong" not in log and "Traceback" not in log


def _start_nats_with(tmp_path, authorization: str):
    conf = tmp_path / "auth.conf"
    conf.write_text(
        textwrap.dedent(f"""
        jetstream {{ store_dir: $NATS_STORE_DIR }}
        authorization {{
          {authorization}
        }}
    """)
    )
    return start_nats(tmp_path / "store", config=conf, monitor_port=free_port(), log_path=tmp_path / "auth.log")


async def _connects(settings: Settings) -> bool:
    """The start-up wait and FastStream's broker both get through with these settings."""
    await wait_for_dependencies(settings, "registry")
    built = build_app(REGISTRY, settings)
    connection = await built.broker.connect()
    try:
        return connection.is_connected
    finally:
        await built.broker.stop()


def _nkey_seed() -> bytes:
    return nkeys.encode_seed(bytes(nacl.signing.SigningKey.generate()), nkeys.PREFIX_BYTE_USER)


async def test_a_service_connects_with_a_token(servers, tmp_path):
    proc, url = _start_nats_with(tmp_path, 'token: "t0ken123"')
    try:
        ok = Settings(nats_url=url, nats_token="t0ken123", mongodb_url=servers.mongodb_url, startup_timeout=5)
        assert await _connects(ok)
        wrong = Settings(nats_url=url, nats_token="nope", mongodb_url=servers.mongodb_url, startup_timeout=5)
        with pytest.raises(SystemExit, match="authorization violation"):
            await wait_for_dependencies(wrong, "registry")
    finally:
        proc.stop(5)


async def test_a_service_connects_with_an_nkey_seed_file(servers, tmp_path):
    seed = _nkey_seed()
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    seed_file = tmp_path / "registry.nk"
    seed_file.write_bytes(seed + b"\n")
    seed_file.chmod(0o600)
    proc, url = _start_nats_with(tmp_path, f'users = [ {{ nkey: "{public}" }} ]')
    try:
        ok = Settings(
            nats_url=url, nats_nkey_seed_file=str(seed_file), mongodb_url=servers.mongodb_url, startup_timeout=5
        )
        assert await _connects(ok)
        other = tmp_path / "other.nk"
        other.write_bytes(_nkey_seed())
        wrong = Settings(
            nats_url=url, nats_nkey_seed_file=str(other), mongodb_url=servers.mongodb_url, startup_timeout=5
        )
        with pytest.raises(SystemExit, match="authorization violation"):
            await wait_for_dependencies(wrong, "registry")
    finally:
        proc.stop(5)


async def test_the_service_connection_uses_its_own_inbox_for_requests_jetstream_and_its_lease_bucket(
    fresh_nats, settings_for
):
    """FastStream's broker connection carries the prefix, so every reply path (the JetStream API requests,
    pull consumers, KV) lands below ``_INBOX_registry``; the server (nats.conf) would refuse any other, and
    ``fresh_nats`` fails the test on any permissions violation."""
    from service_harness import RunningService

    async with RunningService(REGISTRY, settings_for(fresh_nats, "registry")) as service:
        assert service.settings.nats_user == "registry"
        nc = service.built.broker.connection
        assert nc.new_inbox().startswith("_INBOX_registry.")
        js = nc.jetstream(timeout=5)
        assert (await js.stream_info("REGISTRY")).config.name == "REGISTRY"
        kv = await js.key_value("leases_registry")
        await kv.put("probe", b"1")
        assert (await kv.get("probe")).value == b"1"
        await kv.purge("probe")
        # And the operator side (the harness's client, as admin) still reaches the service.
        assert (await service.client.admin("registry", "health"))["stream"] == "REGISTRY"
