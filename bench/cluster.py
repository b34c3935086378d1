"""The benchmark's NATS cluster: the runtime's local cluster (:class:`~mignet_runtime.cluster.NatsCluster`),
open like the benchmark's single server (no nats.conf users) and with the benchmark's fsync choice."""

from __future__ import annotations

from pathlib import Path

from mignet_runtime.cluster import ClusterNode, NatsCluster
from mignet_runtime.localstack import start_nats


class BenchCluster(NatsCluster):
    def __init__(self, data_dir: Path, size: int, config: Path | None, log_dir: Path):
        super().__init__(data_dir, {}, size, log_dir=log_dir)
        #: None: nats-server's defaults (fsync every 2 minutes); else the benchmark's conf (``sync_interval``).
        self.config = config

    def _start_node(self, node: ClusterNode) -> None:
        node.process, _ = start_nats(
            node.store_dir,
            port=node.client_port,
            log_path=node.log_path,
            monitor_port=node.monitor_port,
            config=self.config,
            name=node.name,
            extra_args=self.cluster_args(node),
        )
