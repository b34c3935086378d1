"""The benchmarks' own throwaway nats-server and SecantusDB, and the services as separate processes,
started exactly as `make run` starts them."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.cluster import BenchCluster
from mignet_runtime.client import MignetClient
from mignet_runtime.localstack import ManagedProcess, free_port, provision_local, start_nats, start_secantus, stop_all

DB_PREFIX = "bench"


#: Where the services' packages live inside a mignet checkout (for ``--services-from``).
PACKAGE_DIRS = ("contracts", "runtime", "services/registry", "services/reviews", "services/notifier")


#: nats-server's JetStream file store fsyncs every 2 minutes by default; ``always`` fsyncs every write.
SYNC_CHOICES = ("default", "always")


class Stack:
    def __init__(self, services_from: str | None = None, sync: str = "default", cluster: int = 0):
        self.services_from = Path(services_from).resolve() if services_from else None
        self.sync = sync
        #: With 3 or more, that many clustered nats-servers and streams with 3 replicas.
        self.cluster = cluster
        self.replicas = 3 if cluster else 1
        self.root = Path(tempfile.mkdtemp(prefix="mignet-bench-"))
        self.processes: list[ManagedProcess] = []
        self.nats_url = self.mongo_url = ""
        self.nats_processes: list[ManagedProcess] = []
        self.mongo_process: ManagedProcess | None = None
        self.http_port = free_port()

    def start_servers(self) -> None:
        config = None
        if self.sync != "default":
            # start_nats reads the store directory from $NATS_STORE_DIR when given a config file.
            config = self.root / "nats.conf"
            config.write_text(f"jetstream {{\n  store_dir: $NATS_STORE_DIR\n  sync_interval: {self.sync}\n}}\n")
        if self.cluster:
            nodes = BenchCluster(self.root / "nats", self.cluster, config, log_dir=self.root)
            self.nats_processes = nodes.start().processes
            self.nats_url = nodes.url
        else:
            nats_proc, self.nats_url = start_nats(self.root / "nats", log_path=self.root / "nats.log", config=config)
            self.nats_processes = [nats_proc]
        self.processes += self.nats_processes
        # Services only check their streams; they never create them.
        provision_local(self.nats_url, replicas=self.replicas)
        mongo_proc, self.mongo_url = start_secantus(self.root / "mongo", log_path=self.root / "mongo.log")
        self.processes.append(mongo_proc)
        self.mongo_process = mongo_proc

    def nats_pids(self) -> dict[str, int | None]:
        """The nats-server process (or each node of a cluster) by name, for CPU per command."""
        if len(self.nats_processes) == 1:
            return {"nats-server": self.nats_processes[0].pid}
        return {f"nats-{i + 1}": p.pid for i, p in enumerate(self.nats_processes)}

    @property
    def client_urls(self) -> list[str]:
        """For ``nats.connect``: every node of a cluster (nats-py takes a list, not a comma-separated string)."""
        return self.nats_url.split(",")

    def service(self, name: str, extra_env: dict[str, str] | None = None) -> ManagedProcess:
        env = {
            **os.environ,
            "NATS_URL": self.nats_url,
            "MONGODB_URL": self.mongo_url,
            "MIGNET_DB_PREFIX": DB_PREFIX,
            "MIGNET_STREAM_REPLICAS": str(self.replicas),
            "LOG_LEVEL": "WARNING",
            "MIGNET_HTTP_HOST": "127.0.0.1",
            "MIGNET_HTTP_PORT": str(self.http_port),
            # Metrics on, as deployed, on a port of its own (the defaults may be taken on this host).
            "MIGNET_ADMIN_PORT": str(free_port()),
            **(extra_env or {}),
        }
        if self.services_from is not None:
            # Ahead of the editable install on sys.path, so the services import that checkout's code.
            env["PYTHONPATH"] = os.pathsep.join(str(self.services_from / d) for d in PACKAGE_DIRS)
        process = ManagedProcess(
            name, [sys.executable, "-m", f"mignet_{name}"], env=env, log_path=self.root / f"{name}.log"
        )
        self.processes.append(process.start())
        return process

    def database(self, service: str) -> str:
        return f"{DB_PREFIX}_{service}"

    def stop(self) -> None:
        # The services first, while NATS and MongoDB still answer: a service stopped together with
        # nats-server could not release its projection lease (TimeoutError) nor drain its connection.
        servers = [*self.nats_processes, *([self.mongo_process] if self.mongo_process else [])]
        stop_all([p for p in reversed(self.processes) if p not in servers])
        stop_all(servers)
        # The data (hundreds of MB at full size) goes; the logs stay for a look after a failure.
        for data in ("nats", "mongo"):
            shutil.rmtree(self.root / data, ignore_errors=True)


async def wait_healthy(client: MignetClient, service: str, process: ManagedProcess, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await client.admin(service, "health")
            return
        except Exception:
            if not process.is_running or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{service} did not become healthy:\n{process.log_tail()}") from None
            await asyncio.sleep(0.1)
