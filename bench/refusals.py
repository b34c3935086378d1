"""`python -m bench.refusals`: the CPU one bad request costs the endpoint layer, and its reply's size.

In this process, no servers: each request through ``endpoints.answer`` (what a
service does with a request before and instead of its handler), CPU time per
request averaged over a few. For a before/after comparison, put another
checkout first on the path: ``PYTHONPATH=/tmp/before/contracts:/tmp/before/runtime
python -m bench.refusals`` (this module imports nothing else of mignet's).
"""

from __future__ import annotations

import asyncio
import json
import time

from mignet_contracts import registry, reviews
from mignet_runtime.endpoints import answer

SUBMISSION = {
    "actor": "bench",
    "review_id": "africa-2024-2025",
    "contributor": {"kind": "member-state", "country": "BD"},
    "level": "national",
    "title": "t",
    "summary": "s",
    "language": "en",
}
CASES = [
    (
        "submit-contribution, objectives: [0] * 10000",
        reviews.SubmitContribution,
        json.dumps({**SUBMISSION, "objectives": [0] * 10000}).encode(),
    ),
    (
        "create-network, 20,000 unknown top-level keys",
        registry.CreateNetwork,
        json.dumps({"actor": "bench", **{f"k{i}": 0 for i in range(20000)}}).encode(),
    ),
    (
        "create-network, 20,000 unknown keys in members[0]",
        registry.CreateNetwork,
        json.dumps(
            {"actor": "bench", "scope": "global", "network_name": "x", "members": [{f"k{i}": 0 for i in range(20000)}]}
        ).encode(),
    ),
]


async def handler(_):
    raise AssertionError("a refused request never reaches its handler")


async def measure(repeat: int = 5) -> list[tuple[str, int, int, float]]:
    out = []
    for name, model, body in CASES:
        await answer(model, body, handler)  # the first validation error of a model builds lazily
        started = time.process_time()
        for _ in range(repeat):
            reply = await answer(model, body, handler)
        out.append((name, len(body), len(reply), (time.process_time() - started) / repeat))
    return out


def main() -> None:
    print("| bad request | request | reply | CPU per request |")
    print("|---|---|---|---|")
    for name, request, reply, cpu in asyncio.run(measure()):
        print(f"| {name} | {request / 1024:,.0f} KB | {reply:,} B | {cpu * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
