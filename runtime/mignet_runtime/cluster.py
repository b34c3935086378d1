"""A NATS cluster of N nodes on loopback: ``make run CLUSTER=3`` and the node-loss tests.

Each node runs deploy/nats/nats.conf itself (the same users and permissions as one
server), with its own client port, route port, monitoring port and store directory;
the command line adds what makes it a cluster member: a unique server name (JetStream
places replicas by it), the cluster name and routes to every other node. Clients get
all client URLs, comma-separated in ``NATS_URL``, and reconnect to a survivor by
themselves when a node dies.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mignet_runtime.localstack import (
    LineSink,
    ManagedProcess,
    StartupError,
    free_port,
    start_secured_nats,
    wait_for_log,
    wait_for_port,
)

CLUSTER_NAME = "mignet"


@dataclass
class ClusterNode:
    name: str
    client_port: int
    route_port: int
    store_dir: Path
    log_path: Path
    monitor_port: int
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"


class NatsCluster:
    """Start, kill and restart the nodes of a local cluster; ``url`` lists them all."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        passwords: dict[str, str],
        size: int = 3,
        *,
        log_dir: str | os.PathLike[str] | None = None,
        client_ports: list[int] | None = None,
        echo: LineSink | None = None,
    ):
        if size < 3:
            raise ValueError("a JetStream cluster needs at least 3 nodes to keep a quorum through the loss of one")
        data, logs = Path(data_dir), Path(log_dir or data_dir)
        ports = client_ports or [free_port() for _ in range(size)]
        self.passwords = passwords
        self.echo = echo
        self.nodes = [
            ClusterNode(
                name=f"mignet-nats-{i + 1}",
                client_port=ports[i],
                route_port=free_port(),
                store_dir=data / f"nats-{i + 1}",
                log_path=logs / f"nats-server-{i + 1}.log",
                monitor_port=free_port(),
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def processes(self) -> list[ManagedProcess]:
        return [node.process for node in self.nodes if node.process is not None]

    def start(self, timeout: float = 60.0) -> NatsCluster:
        try:
            for node in self.nodes:
                self._start_node(node)
            self.wait_for_quorum(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_for_quorum(self, timeout: float = 60.0) -> None:
        """Until JetStream has a meta leader that sees every node current: before that, creating a
        stream with 3 replicas fails with 'no suitable peers for placement'."""
        deadline = time.monotonic() + timeout
        while True:
            seen = [_meta_cluster(node.monitor_port) for node in self.nodes if node.process and node.process.is_running]
            if any(_formed(meta, len(self.nodes)) for meta in seen):
                return
            if time.monotonic() > deadline:
                raise StartupError(f"the NATS cluster did not form within {timeout:.0f}s: {seen}")
            time.sleep(0.2)

    def cluster_args(self, node: ClusterNode) -> list[str]:
        """What makes ``node`` a member: its unique name, the cluster's name, its route port, routes to the others."""
        routes = ",".join(f"nats://127.0.0.1:{other.route_port}" for other in self.nodes if other is not node)
        return [
            "--name",
            node.name,
            "--cluster_name",
            CLUSTER_NAME,
            "--cluster",
            f"nats://127.0.0.1:{node.route_port}",
            "--routes",
            routes,
        ]

    def _start_node(self, node: ClusterNode) -> None:
        node.process, _ = start_secured_nats(
            node.store_dir,
            self.passwords,
            port=node.client_port,
            log_path=node.log_path,
            monitor_port=node.monitor_port,
            echo=self.echo,
            name=node.name,
            extra_args=self.cluster_args(node),
        )

    def kill(self, index: int) -> None:
        """SIGKILL one node, as a machine that dies would go: no goodbye to its peers."""
        process = self.nodes[index].process
        if process is not None:
            process.kill()

    def restart(self, index: int, timeout: float = 30.0) -> None:
        """Start a stopped node again on its ports and store; it rejoins and catches up on its own."""
        node = self.nodes[index]
        assert node.process is not None and not node.process.is_running, f"{node.name} is still running"
        node.process.start()
        wait_for_log(node.process, "Server is ready", timeout)
        wait_for_port("127.0.0.1", node.client_port, timeout, node.process)
        self.wait_for_quorum(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes:
            process.stop(timeout)


def _meta_cluster(monitor_port: int) -> dict:
    """The JetStream meta group as one node sees it (its /jsz monitoring page), or {} if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor_port}/jsz", timeout=2) as answer:
            return json.load(answer).get("meta_cluster") or {}
    except (OSError, ValueError):
        return {}


def _formed(meta: dict, size: int) -> bool:
    peers = meta.get("replicas") or []
    return (
        bool(meta.get("leader"))
        and len(peers) == size - 1
        and all(p.get("current") and not p.get("offline") for p in peers)
    )
