"""The registry service: networks on migration, their members, champion countries.

Run with ``python -m mignet_registry``; configuration comes from the
environment (see :mod:`mignet_runtime.settings`).
"""

from __future__ import annotations

from mignet_contracts import registry as c
from mignet_contracts import support as sr
from mignet_contracts import working_groups as wg
from mignet_contracts.catalog import REGISTRY_STREAM_EVENTS
from mignet_registry import commands, queries, support_views, working_group_views
from mignet_registry.projections import PROJECTIONS
from mignet_runtime.codec import EventCodec
from mignet_runtime.service import Router, ServiceSpec, build_app, run

EVENTS = REGISTRY_STREAM_EVENTS
COMMANDS = (*c.REGISTRY_COMMANDS, *wg.WORKING_GROUP_COMMANDS, *sr.SUPPORT_COMMANDS)
CODEC = EventCodec(EVENTS)


def routes(router: Router) -> None:
    rt = router.runtime

    async def command(cmd):
        return await commands.handle(rt.executor, cmd)

    for model in COMMANDS:
        router.command(model, command)

    router.query(c.ListNetworks, lambda q: queries.list_networks(rt.db, q))
    router.query(c.GetNetwork, lambda q: queries.get_network(rt.db, rt.executor, q))
    router.query(c.ListChampions, lambda q: queries.list_champions(rt.db, q))
    router.query(c.GetChampion, lambda q: queries.get_champion(rt.db, q))
    router.query(c.DirectorySummary, lambda q: queries.directory_summary(rt.db, rt.store, q, rt.executor.today()))
    router.query(wg.ListWorkingGroups, lambda q: working_group_views.list_working_groups(rt.db, q))
    router.query(wg.GetWorkingGroup, lambda q: working_group_views.get_working_group(rt.db, q))
    router.query(wg.ListPilots, lambda q: queries.list_pilots(rt.db, q))
    router.query(sr.ListSupportRequests, lambda q: support_views.list_support_requests(rt.db, q))
    router.query(sr.GetSupportRequest, lambda q: support_views.get_support_request(rt.db, q))
    router.query(sr.SupportFigures, lambda q: support_views.support_figures(rt.db, q))


SPEC = ServiceSpec(name=c.SERVICE, codec=CODEC, projections=PROJECTIONS, routes=routes)


def build(settings=None):
    return build_app(SPEC, settings)


def main() -> None:
    run(SPEC)
