"""`python -m bench.instrumentation_loop`: what the instrumentation adds to one command, measured in a loop.

No servers: each step a command takes through the instrumentation (count the reply,
time the append, bind the log ids, the trace context, a projection's span) is run
N times on made-up values and timed by CPU. Steady where the end-to-end comparison
(`--only instrumentation`) is at the mercy of a shared machine's load.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from types import SimpleNamespace

from bench.collector import Collector
from mignet_runtime import logs, tracing
from mignet_runtime.metrics import ServiceMetrics

REPLY = (
    b'{"ok":true,"result":{"aggregate":"network","aggregate_id":"reg-0123456789ab","version":12,'
    b'"events":[{"seq":12,"subject":"registry.events.network.reg-0123456789ab.created"}],"replayed":false},'
    b'"error":null}'
)
HEADERS = {"Mignet-Timeout-Ms": "30000"}


def per_call(n: int, step: Callable[[], object]) -> float:
    """Microseconds of CPU per call."""
    started = time.process_time()
    for _ in range(n):
        step()
    return (time.process_time() - started) / n * 1e6


def command(metrics: ServiceMetrics | None) -> None:
    """One command's path through the instrumentation, as the endpoint and the executor take it."""
    with tracing.serving("registry.commands.create-network", HEADERS):
        with logs.bound(command_id="c", correlation_id="c"), logs.bound(aggregate_id="reg-0123456789ab"):
            traceparent, tracestate = tracing.current()
        event = SimpleNamespace(
            traceparent=traceparent, tracestate=tracestate, event_id="e", type="t", seq=1, aggregate_id="a"
        )
        if tracing.enabled():
            tracing.projected("networks", "registry-networks", [event], time.time_ns())
    if metrics is not None:
        metrics.observe_append("ok", 1, 0.001)
        metrics.observe_reply("registry.commands.create-network", REPLY, 0.003)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="calls per figure (20,000)")
    args = parser.parse_args()
    metrics = ServiceMetrics("registry")
    rows = [("off (log ids and traceparent pass-on only)", per_call(args.n, lambda: command(None)))]
    rows.append(("metrics", per_call(args.n, lambda: command(metrics))))
    collector = Collector()
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.url
    # Room for every span of the loop: a full queue would drop spans, and with them their export's cost.
    os.environ["OTEL_BSP_MAX_QUEUE_SIZE"] = str(2 * args.n + 1024)
    try:
        for sampler, label in (
            ("", "metrics + traces, default sampling (10%)"),
            ("parentbased_always_on", "metrics + every request traced"),
        ):
            os.environ["OTEL_TRACES_SAMPLER"] = sampler
            provider = tracing.configure_from_env("registry")
            assert provider is not None
            started = time.process_time()
            for _ in range(args.n):
                command(metrics)
            provider.shutdown()  # the export thread's encoding and posts are counted too
            rows.append((label, (time.process_time() - started) / args.n * 1e6))
            tracing.configure(None)
    finally:
        collector.close()
    print("| instrumentation per command, CPU | µs |\n|---|---|")
    for label, micros in rows:
        print(f"| {label} | {micros:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
