"""Session-wide throwaway servers for the tests.

``servers`` starts one JetStream nats-server and one SecantusDB per test session, on
free ports with data in a temporary directory, shared by all tests.

nats-server runs ``deploy/nats/nats.conf`` itself with generated passwords, and the
streams and lease buckets are provisioned as in production. ``servers.nats_url`` (and
``fresh_nats``) is a :class:`NatsUrl`: the URL *with the admin user's credentials*, for
runtime-level tests and fixtures; a test that starts a *service* gives it the service's
own user (``servers.settings_for("registry")``, ``servers.env_for("registry")``,
``nats_url.settings_for("registry")``; ``RunningService`` does it by itself), and one that
acts as an operator uses ``nats_url.url_for("operator")``.

``spawn_servers()`` starts a private pair for a test that stops, kills or restarts
them (same port and data directory again, so the URLs and the data survive),
leaving the shared pair alone.

To run against servers you started yourself instead:
``MIGNET_TEST_EXTERNAL=1 NATS_URL=nats://... MONGODB_URL=mongodb://... pytest``, the nats-server
running deploy/nats/nats.conf with the passwords in ``<USER>_NATS_PASSWORD`` (the tests provision
it as ``admin``); tests that need ``spawn_servers`` or their own server then skip or start one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mignet_runtime.localstack import (
    FREE_PORTS_ENV,
    ManagedProcess,
    dev_passwords,
    free_port,
    free_port_slice,
    provision_local,
    start_secantus,
    stop_all,
)
from mignet_runtime.settings import Settings

from secured_nats import NatsUrl, start_test_nats

# Under pytest-xdist (`make test` runs two workers), each worker and every process it starts picks ports from
# its own slice: a port held for a server's restart is never handed to the other worker's servers.
if os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    if FREE_PORTS_ENV not in os.environ:
        os.environ[FREE_PORTS_ENV] = free_port_slice(
            int(os.environ["PYTEST_XDIST_WORKER"][2:]), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        )
    # A worker starts with COLUMNS=80 and LINES=24 set, which the CLI's console (made at import) would keep for
    # good; without them it asks at every print, and the CLI tests' COLUMNS=200 holds, as in a single process.
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)


class LocalServer:
    """A throwaway server pinned to one port and data dir (and passwords), so restarts keep its URL and data."""

    def __init__(self, starter: Callable[..., tuple[ManagedProcess, str]], data_dir: Path, log_path: Path):
        self._starter = starter
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.process: ManagedProcess | None = None
        self.url = ""

    def start(self) -> None:
        self.process, self.url = self._starter(self.data_dir, port=self.port, log_path=self.log_path)

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful: SIGTERM, then SIGKILL after ``timeout``."""
        if self.process is not None:
            self.process.stop(timeout)

    def kill(self) -> None:
        """A crash: SIGKILL, no chance to flush."""
        if self.process is not None:
            self.process.kill()

    def restart(self, *, crash: bool = False) -> None:
        if crash:
            self.kill()
        else:
            self.stop()
        self.start()


@dataclass
class Servers:
    nats_url: NatsUrl
    mongodb_url: str
    nats: LocalServer | None = None  # None when MIGNET_TEST_EXTERNAL=1
    mongo: LocalServer | None = None

    @classmethod
    def start_local(cls, root: Path) -> Servers:
        passwords = dev_passwords()

        def start_nats(data_dir: Path, port: int, log_path: Path) -> tuple[ManagedProcess, NatsUrl]:
            return start_test_nats(data_dir, port=port, log_path=log_path, passwords=passwords)

        nats = LocalServer(start_nats, root / "nats", root / "nats-server.log")
        mongo = LocalServer(start_secantus, root / "mongo", root / "secantus.log")
        try:
            nats.start()
            mongo.start()
        except BaseException:
            stop_all(s.process for s in (nats, mongo) if s.process is not None)
            raise
        return cls(nats_url=nats.url, mongodb_url=mongo.url, nats=nats, mongo=mongo)

    @property
    def nats_process(self) -> ManagedProcess | None:
        return self.nats.process if self.nats else None

    @property
    def mongo_process(self) -> ManagedProcess | None:
        return self.mongo.process if self.mongo else None

    def env(self, **extra: str) -> dict[str, str]:
        """Environment pointed at these servers, as the admin user (use :meth:`env_for` for a service)."""
        return {**os.environ, "NATS_URL": self.nats_url, "MONGODB_URL": self.mongodb_url, **extra}

    def env_for(self, user: str, nats: NatsUrl | None = None, **extra: str) -> dict[str, str]:
        """Environment for ``python -m mignet_<user>`` (or the CLI as ``operator``) as that NATS user."""
        nats = nats or self.nats_url
        env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
        # A free admin port (/readyz, /metrics): the default ones may be taken by another stack on this host.
        admin = {"MIGNET_ADMIN_PORT": str(free_port())}
        return {**env, "MONGODB_URL": self.mongodb_url, **admin, **nats.env_for(user), **extra}

    def settings_for(self, service: str, nats: NatsUrl | None = None, **overrides) -> Settings:
        """Settings of ``service`` connecting as its own NATS user."""
        nats = nats or self.nats_url
        return Settings(
            **{"mongodb_url": self.mongodb_url, "startup_timeout": 20, **nats.credentials(service), **overrides}
        )

    def stop(self) -> None:
        # Throwaway data directories: 3 s to stop by themselves, then SIGKILL (the default waits 10 s).
        stop_all((s.process for s in (self.nats, self.mongo) if s is not None and s.process is not None), timeout=3)


def _external_servers() -> Servers:
    missing = [v for v in ("NATS_URL", "MONGODB_URL") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(f"MIGNET_TEST_EXTERNAL=1 needs {' and '.join(missing)} set")
    # An external server is taken as is: it must run deploy/nats/nats.conf with these passwords.
    passwords = {
        user: os.environ.get(f"{user.upper()}_NATS_PASSWORD", "")
        for user in ("registry", "reviews", "notifier", "operator", "admin", "sys")
    }
    missing = [user for user, password in passwords.items() if not password]
    if missing:
        raise pytest.UsageError("MIGNET_TEST_EXTERNAL=1 needs <USER>_NATS_PASSWORD for " + ", ".join(missing))
    provision_local(os.environ["NATS_URL"], passwords["admin"])
    return Servers(nats_url=NatsUrl(os.environ["NATS_URL"], passwords), mongodb_url=os.environ["MONGODB_URL"])


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The servers every test shares. Don't restart them: session-wide clients would notice."""
    if os.environ.get("MIGNET_TEST_EXTERNAL") == "1":
        yield _external_servers()
        return
    started = Servers.start_local(tmp_path_factory.mktemp("servers"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def spawn_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Servers]]:
    """nats-server runs ``deploy/nats/nats.conf`` itself with generated passwords, and the
    streams and lease buckets are provisioned as in production. ``servers.nats_url`` (and
    ``fresh_nats``) is a :class:`NatsUrl`: the URL *with the admin user's credentials*, for
    runtime-level tests and fixtures; a test that starts a *service* gives it the service's
    own user (``servers.settings_for("registry")``, ``servers.env_for("registry")``,
    ``nats_url.settings_for("registry")``; ``RunningService`` does it by itself), and one that
    acts as an operator uses ``nats_url.url_for("operator")``.

    ``spawn_servers()`` starts a private pair, for tests that stop, kill or restart them.

        Each pair is stopped at the end of the session at the latest; ``.stop()`` ends it sooner.
    """
    spawned: list[Servers] = []

    def spawn() -> Servers:
        if os.environ.get("MIGNET_TEST_EXTERNAL") == "1":
            pytest.skip("starts its own servers, which MIGNET_TEST_EXTERNAL=1 rules out")
        spawned.append(Servers.start_local(tmp_path_factory.mktemp("private-servers")))
        return spawned[-1]

    yield spawn
    for pair in spawned:
        pair.stop()


@pytest.fixture
def db_prefix() -> str:
    """A database-name prefix of this test's own, so tests sharing one server never see each other's data."""
    return "t" + uuid.uuid4().hex[:8]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m "not integration"` then runs only the tests that need no server.
    for item in items:
        if "servers" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
