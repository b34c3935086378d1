"""Session-wide throwaway servers for the tests.

``servers`` starts one JetStream nats-server and one SecantusDB per test session, on
free ports with data in a temporary directory, shared by all tests.

``spawn_servers()`` starts a private pair for a test that stops, kills or restarts
them (same port and data directory again, so the URLs and the data survive),
leaving the shared pair alone.

To run against servers you started yourself instead:
``MIGNET_TEST_EXTERNAL=1 NATS_URL=nats://... MONGODB_URL=mongodb://... pytest``
(tests that need ``spawn_servers`` then skip).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mignet_runtime.localstack import ManagedProcess, free_port, start_nats, start_secantus, stop_all


class LocalServer:
    """A throwaway server pinned to one port and data dir, so restarts keep its URL and data."""

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
    nats_url: str
    mongodb_url: str
    nats: LocalServer | None = None  # None when MIGNET_TEST_EXTERNAL=1
    mongo: LocalServer | None = None

    @classmethod
    def start_local(cls, root: Path) -> Servers:
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
        """Environment for a service subprocess (``python -m mignet_<name>``) pointed at these servers."""
        return {**os.environ, "NATS_URL": self.nats_url, "MONGODB_URL": self.mongodb_url, **extra}

    def stop(self) -> None:
        stop_all(s.process for s in (self.nats, self.mongo) if s is not None and s.process is not None)


def _external_servers() -> Servers:
    missing = [v for v in ("NATS_URL", "MONGODB_URL") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(f"MIGNET_TEST_EXTERNAL=1 needs {' and '.join(missing)} set")
    return Servers(nats_url=os.environ["NATS_URL"], mongodb_url=os.environ["MONGODB_URL"])


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
    """``spawn_servers()`` starts a private pair, for tests that stop, kill or restart them.

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
