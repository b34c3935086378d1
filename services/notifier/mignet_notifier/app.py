"""The notifier service: subscriptions, and their deliveries by signed webhook and e-mail.

Run with ``python -m mignet_notifier``; configuration comes from the environment
(:mod:`mignet_runtime.settings`, and :mod:`mignet_notifier.config` for its own).
"""

from __future__ import annotations

import logging

from mignet_contracts import notifier as c
from mignet_notifier import commands, queries
from mignet_notifier.config import ConfigError, NotifierConfig
from mignet_notifier.dispatch import Dispatcher
from mignet_notifier.projections import FOREIGN, PROJECTIONS
from mignet_runtime.codec import EventCodec
from mignet_runtime.service import Router, ServiceRuntime, ServiceSpec, build_app, run

CODEC = EventCodec(c.NOTIFIER_EVENTS)


def make_spec(config: NotifierConfig) -> ServiceSpec:
    def routes(router: Router) -> None:
        rt = router.runtime

        async def command(cmd):
            return await commands.handle(rt.executor, cmd, config)

        for model in c.SUBSCRIPTION_COMMANDS:
            router.command(model, command)
        router.command(c.RetryDeliveries, lambda cmd: commands.retry(rt.db, cmd))
        router.query(c.ListSubscriptions, lambda q: queries.list_subscriptions(rt.db, q))
        router.query(c.GetSubscription, lambda q: queries.get_subscription(rt.db, rt.executor, q))
        router.query(c.ListDeliveries, lambda q: queries.list_deliveries(rt.db, q))
        router.query(c.DeliveryFigures, lambda q: queries.delivery_figures(rt.db, q))

    async def deliver(runtime: ServiceRuntime) -> None:
        async def send(cmd):
            return await commands.handle(runtime.executor, cmd, config)

        await Dispatcher(runtime, config, send).serve()

    return ServiceSpec(
        name=c.SERVICE, codec=CODEC, projections=PROJECTIONS, foreign=FOREIGN, routes=routes, background=(deliver,)
    )


def build(settings=None, config: NotifierConfig | None = None):
    return build_app(make_spec(config or NotifierConfig.from_env()), settings)


def main() -> None:
    # httpx logs every request at INFO, URL included (which may hold an integrator's token).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = NotifierConfig.from_env()
    except ConfigError as exc:
        raise SystemExit(f"notifier refuses to run: {exc}") from None
    run(make_spec(config))
