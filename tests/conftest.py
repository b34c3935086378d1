"""Session-wide throwaway servers for the tests.

``servers`` starts one JetStream nats-server and one SecantusDB per test session, on
free ports with data in a temporary directory (on disk, so a test can stop, kill and
restart either server and find its data again under the same URL).

To run against servers you started yourself instead:
``MIGNET_TEST_EXTERNAL=1 NATS_URL=nats://... MONGODB_URL=mongodb://... pytest``.
Tests that restart servers must call ``servers.require_local()`` so they skip there.
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
        self.kill() if crash else self.stop()
        self.start()


@dataclass
class Servers:
    nats_url: str
    mongodb_url: str
    nats: LocalServer | None = None  # None when MIGNET_TEST_EXTERNAL=1
    mongo: LocalServer | None = None

    @property
    def nats_process(self) -> ManagedProcess | None:
        return self.nats.process if self.nats else None

    @property
    def mongo_process(self) -> ManagedProcess | None:
        return self.mongo.process if self.mongo else None

    def require_local(self) -> None:
        if self.nats is None or self.mongo is None:
            pytest.skip("needs the throwaway servers (not available with MIGNET_TEST_EXTERNAL=1)")

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a service subprocess (``python -m mignet_<name>``) pointed at these servers."""
        return {**os.environ, "NATS_URL": self.nats_url, "MONGODB_URL": self.mongodb_url, **extra}


def _external_servers() -> Servers:
    missing = [v for v in ("NATS_URL", "MONGODB_URL") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(f"MIGNET_TEST_EXTERNAL=1 needs {' and '.join(missing)} set")
    return Servers(nats_url=os.environ["NATS_URL"], mongodb_url=os.environ["MONGODB_URL"])


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if os.environ.get("MIGNET_TEST_EXTERNAL") == "1":
        yield _external_servers()
        return
    root = tmp_path_factory.mktemp("servers")
    nats = LocalServer(start_nats, root / "nats", root / "nats-server.log")
    mongo = LocalServer(start_secantus, root / "mongo", root / "secantus.log")
    try:
        nats.start()
        mongo.start()
        yield Servers(nats_url=nats.url, mongodb_url=mongo.url, nats=nats, mongo=mongo)
    finally:
        stop_all([s.process for s in (nats, mongo) if s.process is not None])


@pytest.fixture
def db_prefix() -> str:
    """A database-name prefix of this test's own, so tests sharing one server never see each other's data."""
    return "t" + uuid.uuid4().hex[:8]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m "not integration"` then runs only the tests that need no server.
    for item in items:
        if "servers" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
