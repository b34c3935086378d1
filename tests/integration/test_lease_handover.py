"""Rolling restarts: SIGTERM the lease holder five times; each time the standby takes over at once.

Two registry processes (`python -m mignet_registry`, role `all`, each as the registry's own NATS
user) on one nats-server with the production lease TTL (10 s). Each round starts a new replica,
waits until it stands by, SIGTERMs the holder under a stream of commands, and times the standby's
takeover. A holder that did not release its lease would leave the key to expire: 6.7 to 10 s after
the SIGTERM (renewals every TTL/3), plus the standby's retry. The read models must end equal to a
fresh fold of the stream: nothing applied twice, nothing lost.
"""

from __future__ import annotations

import asyncio
import re
import time

import nats
from conftest import eventually
from test_lease_failover import COUNTRIES, ENTITIES, Replica, _answers, _equal_to_a_fresh_fold, _holder, burst, send_all

from mignet_contracts import reference
from mignet_contracts import registry as c
from mignet_registry.app import CODEC
from mignet_runtime.client import MignetClient
from mignet_runtime.eventstore import EventStore

ROUNDS = 5  # each round about 2 s of the suite; ten rounds showed the same 0.66-0.80 s takeovers
TTL = 10
#: The standby retries every second; its acquisition, fresh runners and log line come on top, and the
#: machine is shared: 5 s is half the TTL and still below the 6.7 s an unreleased key lives at least.
BOUND = 5.0
#: One more member per network each round, sent while the holder stops.
JOINING = [e for e in sorted(reference.UN_ENTITIES) if e not in ENTITIES][:ROUNDS]
TTL_SAID = re.compile(r"holds the lease \S+ \(TTL (\d+)s\)")


def joins(entity: str) -> dict[str, list]:
    return {
        code: [
            c.AddNetworkMember(
                command_id=f"join-{entity}-{code}", actor="roll", network_id=c.national_network_id(code), entity=entity
            )
        ]
        for code in COUNTRIES
    }


async def _running_under(replica: Replica, previous: int | None, timeout: float) -> int:
    async def newer():
        token = replica.token()
        return token if token is not None and (previous is None or token > previous) else None

    return await eventually(newer, timeout=timeout, interval=0.02)


async def test_sigterm_the_holder_five_times_and_the_standby_takes_over_well_under_the_ttl(
    fresh_nats, servers, db_prefix, mongo, tmp_path
):
    def replica(n: int) -> Replica:
        env = servers.env_for(
            "registry", nats=fresh_nats, MIGNET_DB_PREFIX=db_prefix, LOG_LEVEL="INFO", MIGNET_STARTUP_TIMEOUT="30"
        )
        started = Replica(f"registry-{n}", env, tmp_path / f"registry-{n}.log")
        started.process.start()
        return started

    live = [replica(0), replica(1)]
    nc = await nats.connect(fresh_nats)
    try:
        client = MignetClient(nc, timeout=2)
        await eventually(lambda: _answers(client), timeout=30)
        holder = await _holder(live)
        assert {int(ttl) for ttl in TTL_SAID.findall(holder.log())} == {TTL}, "the bound assumes a 10 s lease"
        token = holder.token()
        await send_all(client, burst("roll"))
        took: list[float] = []
        senders = []
        for n, entity in enumerate(JOINING, start=2):
            heir = next(r for r in live if r is not holder)
            await eventually(lambda heir=heir: _true("standing by for the projection lease" in heir.log()), timeout=30)
            senders.append(asyncio.create_task(send_all(client, joins(entity))))
            await asyncio.sleep(0.2)  # the holder is projecting them when it stops
            stopped = time.monotonic()
            holder.process.terminate()
            token = await _running_under(heir, token, timeout=TTL + 5)
            took.append(time.monotonic() - stopped)
            assert holder.process.wait(20) == 0, holder.process.log_tail()
            assert "released the lease" in holder.log() and "could not release" not in holder.log()
            live = [heir, replica(n)]
            holder = heir
        await asyncio.wait_for(asyncio.gather(*senders), 180)
        print("takeovers after SIGTERM (s):", " ".join(f"{t:.2f}" for t in took))
        assert max(took) < BOUND, f"a takeover took {max(took):.2f}s (bound {BOUND}s): {took}"
        await _equal_to_a_fresh_fold(mongo, db_prefix, EventStore(nc, "registry", CODEC))
        networks = await mongo[f"{db_prefix}_registry"]["networks"].find().to_list(None)
        assert len(networks) == len(COUNTRIES)
        assert {n["member_count"] for n in networks} == {len(ENTITIES) + ROUNDS}
        assert all("LOST the lease" not in r.log() for r in live)
    finally:
        for r in live:
            r.process.stop(20)
        await nc.drain()


async def _true(value: bool) -> bool:
    return value
