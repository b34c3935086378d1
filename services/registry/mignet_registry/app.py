"""The registry service: networks on migration, their members, champion countries.

Run with ``python -m mignet_registry``; configuration comes from the
environment (see :mod:`mignet_runtime.settings`).
"""

from __future__ import annotations

from mignet_contracts import registry as c
from mignet_registry import commands, queries
from mignet_registry.projections import PROJECTIONS
from mignet_runtime.codec import EventCodec
from mignet_runtime.service import Router, ServiceSpec, build_app, run

CODEC = EventCodec(c.REGISTRY_EVENTS)


def routes(router: Router) -> None:
    rt = router.runtime

    async def command(cmd):
        return await commands.handle(rt.executor, cmd)

    for model in c.REGISTRY_COMMANDS:
        router.command(model, command)

    router.query(c.ListNetworks, lambda q: queries.list_networks(rt.db, q))
    router.query(c.GetNetwork, lambda q: queries.get_network(rt.db, rt.executor, q))
    router.query(c.ListChampions, lambda q: queries.list_champions(rt.db, q))
    router.query(c.GetChampion, lambda q: queries.get_champion(rt.db, q))
    router.query(c.DirectorySummary, lambda q: queries.directory_summary(rt.db, rt.store, q, rt.executor.today()))


SPEC = ServiceSpec(name=c.SERVICE, codec=CODEC, projections=PROJECTIONS, routes=routes)


def build(settings=None):
    return build_app(SPEC, settings)


def main() -> None:
    run(SPEC)
