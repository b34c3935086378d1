"""`python -m bench` (or `make bench`): run the benchmarks and print one table.

Every figure stands beside the raw limit measured in the same run, because
these machines are noisy: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import registry

RECORD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def render(rows: list[tuple], argv: list[str]) -> str:
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "",
        f"Command: `python -m bench {shlex.join(argv)}`",
        "",
        "| measured | mignet | raw limit, same run | raw | ratio / target |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-client", type=int, default=100, help="commands per client (32 clients)")
    parser.add_argument("--aggregates", type=int, default=5000)
    parser.add_argument("--events-per-aggregate", type=int, default=10)
    parser.add_argument("--rate", type=int, default=200, help="commands/s for the visibility latency")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--record", action="store_true", help=f"append the table to {RECORD}")
    args = parser.parse_args()
    rows = asyncio.run(registry.main(args.per_client, args.aggregates, args.events_per_aggregate, args.rate,
                                     args.seconds))
    table = render(rows, sys.argv[1:])
    print(table)
    if args.record:
        with RECORD.open("a") as out:
            out.write("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
