"""Wiring one mignet service: broker, event store, projections, endpoints, lifespan.

Each service's ``app`` module describes itself with a :class:`ServiceSpec` and
calls :func:`build_app`; everything below is shared.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import nats
from nats.js.errors import NotFoundError
from faststream import FastStream
from faststream.nats import NatsBroker
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from mignet_contracts.envelope import Command, Query
from mignet_runtime.admin import ADMIN_REQUESTS, Health, ProjectionStatus, RebuildProjections, admin_subject
from mignet_runtime.codec import EventCodec
from mignet_runtime.commands import AggregateCache, CommandExecutor
from mignet_runtime.endpoints import Endpoint, EndpointServer
from mignet_runtime.errors import NotFound, Unavailable, ValidationFailed
from mignet_runtime.eventstore import EventStore, StreamSettings, wait_for_stream
from mignet_runtime.outages import MongoHeartbeats, Outages
from mignet_runtime.projection import PARKED, Projection, ProjectionRunner
from mignet_runtime.settings import Settings

log = logging.getLogger(__name__)

#: How long a stopping service waits for the requests under way.
GRACEFUL_SECONDS = 15


@dataclass(frozen=True)
class ForeignSource:
    """Another service's stream this service projects from (never its database)."""

    service: str
    codec: EventCodec
    projections: Sequence[Projection]


@dataclass
class ServiceSpec:
    name: str
    codec: EventCodec
    projections: Sequence[Projection] = ()
    foreign: Sequence[ForeignSource] = ()
    #: Registers commands and queries on the runtime's router.
    routes: Callable[[Router], None] | None = None
    #: Extra long-running tasks (an HTTP server, say), started once ready.
    background: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = ()


class ServiceRuntime:
    """What handlers need at run time; filled in once NATS and MongoDB answer."""

    def __init__(self, spec: ServiceSpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self.ready = asyncio.Event()
        self.store: EventStore | None = None
        self.executor: CommandExecutor | None = None
        self.mongo: AsyncMongoClient | None = None
        self.db = None
        self.runners: dict[str, ProjectionRunner] = {}
        self.foreign_stores: dict[str, EventStore] = {}
        self.outages = Outages()
        self._tasks: list[asyncio.Task] = []
        self._background: list[asyncio.Task] = []

    async def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError as exc:
            raise Unavailable(f"{self.spec.name} is still starting; try again shortly") from exc

    async def start(self, nc) -> None:
        s = self.settings
        # A short server selection: while MongoDB is down, requests are answered 'unavailable' in about
        # that time instead of waiting out the client's timeout. The heartbeat listener logs the outage once.
        self.mongo = AsyncMongoClient(s.mongodb_url, serverSelectionTimeoutMS=s.mongodb_timeout_ms, tz_aware=True,
                                      event_listeners=[MongoHeartbeats(self.outages.mongodb)])
        self.db = self.mongo[s.database(self.spec.name)]
        stream_settings = StreamSettings(duplicate_window=timedelta(hours=s.duplicate_window_hours))
        self.store = EventStore(nc, self.spec.name, self.spec.codec, stream_settings)
        await wait_for_stream(self.store)
        self.executor = CommandExecutor(self.store, AggregateCache(s.aggregate_cache_size))
        sources = [(self.store, p) for p in self.spec.projections]
        for foreign in self.spec.foreign:
            store = EventStore(nc, foreign.service, foreign.codec)
            self.foreign_stores[foreign.service] = store
            sources += [(store, p) for p in foreign.projections]
        for store, projection in sources if s.runs_projections else ():
            runner = ProjectionRunner(
                store, self.db, projection, consumer_prefix=self.spec.name,
                batch_size=s.projection_batch, max_attempts=s.projection_max_attempts,
            )
            self.runners[projection.name] = runner
        for runner in self.runners.values():
            self._tasks.append(asyncio.create_task(self._supervise(runner), name=f"projection-{runner.durable}"))
        for task in self.spec.background if s.serves_requests else ():
            self._background.append(asyncio.create_task(task(self), name=f"{self.spec.name}-background"))
        self.ready.set()
        log.info("%s ready (role %s): stream %s, projections %s",
                 self.spec.name, s.role, self.store.stream, ", ".join(self.runners) or "none")

    async def _supervise(self, runner: ProjectionRunner) -> None:
        while True:
            try:
                await runner.run()
                return
            except asyncio.CancelledError:
                raise
            except NotFoundError:
                # A foreign stream does not exist until its service first starts: wait for it quietly.
                log.warning("projection %s: stream %s does not exist yet; retrying in 5s",
                            runner.durable, runner.store.stream)
                await asyncio.sleep(5)
            except Exception:
                log.exception("projection %s stopped; restarting in 5s", runner.durable)
                await asyncio.sleep(5)

    async def stop(self) -> None:
        # Background tasks (an HTTP server) stop on cancellation only.
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for runner in self.runners.values():
            runner.stop()
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.mongo is not None:
            await self.mongo.close()
        log.info("%s stopped", self.spec.name)


class Router:
    """Registers the request-reply endpoints of one service (served by :class:`EndpointServer`)."""

    def __init__(self, broker: NatsBroker, runtime: ServiceRuntime):
        self.broker = broker
        self.runtime = runtime
        self.workers = runtime.settings.command_workers
        self.server = EndpointServer(self.workers, runtime.settings.request_queue, runtime.outages,
                                     max_wait=runtime.settings.max_queue_wait_ms / 1000)

    def _endpoint(self, subject: str, model, handler, queue: str, bounded: bool = False) -> None:
        runtime = self.runtime

        async def run(request):
            await runtime.wait_ready()
            return await handler(request)

        self.server.add(Endpoint(subject, queue, model, run, bounded=bounded))

    def command(self, model: type[Command], handler: Callable[[Any], Awaitable[Any]]) -> None:
        self._endpoint(model.subject(), model, handler, queue=f"{self.runtime.spec.name}-commands")

    def query(self, model: type[Query], handler: Callable[[Any], Awaitable[Any]]) -> None:
        self._endpoint(model.subject(), model, handler, queue=f"{self.runtime.spec.name}-queries", bounded=True)

    def admin(self, name: str, handler: Callable[[Any], Awaitable[Any]], bounded: bool = False) -> None:
        service = self.runtime.spec.name
        self._endpoint(admin_subject(service, name), ADMIN_REQUESTS[name], handler, queue=f"{service}-admin",
                       bounded=bounded)


def _admin_routes(router: Router) -> None:
    runtime = router.runtime
    service = runtime.spec.name

    async def health(_: Health) -> dict:
        # MongoDB down: PyMongo's ServerSelectionTimeoutError, answered 'unavailable' by the endpoint layer.
        await runtime.mongo.admin.command("ping")
        return {"service": service, "stream": runtime.store.stream, "last_seq": await runtime.store.last_seq()}

    async def status(_: ProjectionStatus) -> list[dict]:
        out = []
        for name, runner in runtime.runners.items():
            checkpoint = await runtime.db["_projections"].find_one({"_id": name}) or {}
            last = await runner.store.last_seq()
            try:
                info = await runner.store.js.consumer_info(runner.store.stream, runner.durable)
                # Events on the projection's own subjects not yet applied: the stream's last
                # sequence alone would count other subjects' events as lag.
                pending = info.num_pending + info.num_ack_pending
            except NotFoundError:
                pending = None  # the runner is (re)creating its consumer
            out.append({
                "projection": name,
                "consumer": runner.durable,
                "stream": runner.store.stream,
                "subjects": runner.projection.subject_filter,
                "applied_seq": checkpoint.get("seq", 0),
                "stream_last_seq": last,
                "pending": pending,
                "parked": await runtime.db[PARKED].count_documents({"projection": name}),
            })
        return out

    async def rebuild(request: RebuildProjections) -> list[dict]:
        if request.progress_subject and not request.progress_subject.startswith(f"{service}.admin.progress."):
            raise ValidationFailed(f"progress_subject must start with {service}.admin.progress.",
                                   field="progress_subject")
        names = request.projections or list(runtime.runners)
        unknown = [n for n in names if n not in runtime.runners]
        if unknown:
            raise NotFound(f"no projection named {', '.join(unknown)}; known: {', '.join(runtime.runners)}",
                           field="projections")
        results = []
        for name in names:
            started = time.perf_counter()
            last_sent = 0.0

            def progress(done: int, total: int, name=name) -> None:
                nonlocal last_sent
                now = time.perf_counter()
                if request.progress_subject and (now - last_sent > 0.2 or done >= total):
                    last_sent = now
                    payload = f'{{"projection":"{name}","done":{done},"total":{total}}}'.encode()
                    asyncio.ensure_future(router.broker.connection.publish(request.progress_subject, payload))

            documents = await runtime.runners[name].rebuild(progress)
            results.append({"projection": name, "documents": documents,
                            "seconds": round(time.perf_counter() - started, 3)})
        return results

    router.admin("health", health, bounded=True)
    if runtime.settings.runs_projections:
        # Only the replica that runs the projections can report on them or rebuild them.
        router.admin("projections.status", status)
        router.admin("projections.rebuild", rebuild)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("faststream").setLevel(logging.WARNING)
    logging.getLogger("mignet.broker").setLevel(logging.WARNING)


async def wait_for_dependencies(settings: Settings) -> None:
    deadline = time.monotonic() + settings.startup_timeout
    while True:
        try:
            nc = await nats.connect(**settings.nats_options(), connect_timeout=2, allow_reconnect=False)
            await nc.close()
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"NATS at {settings.nats_url} did not answer within {settings.startup_timeout}s: {exc}")
            log.warning("waiting for NATS at %s (%s)", settings.nats_url, exc)
            await asyncio.sleep(1)
    client = AsyncMongoClient(settings.mongodb_url, serverSelectionTimeoutMS=2000)
    try:
        while True:
            try:
                await client.admin.command("ping")
                return
            except PyMongoError as exc:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"MongoDB at {settings.mongodb_url} did not answer within {settings.startup_timeout}s: {exc}"
                    ) from exc
                log.warning("waiting for MongoDB at %s (%s)", settings.mongodb_url, type(exc).__name__)
                await asyncio.sleep(1)
    finally:
        await client.close()


@dataclass
class BuiltService:
    app: FastStream
    broker: NatsBroker
    runtime: ServiceRuntime
    extras: dict = field(default_factory=dict)
    #: The request-reply endpoints (their lanes: under way, queued, refused, dropped).
    endpoints: EndpointServer | None = None


def build_app(spec: ServiceSpec, settings: Settings | None = None) -> BuiltService:
    settings = settings or Settings.from_env()
    options = settings.nats_options()
    broker = NatsBroker(
        options.pop("servers"),
        name=f"mignet-{spec.name}",
        max_reconnect_attempts=-1,
        graceful_timeout=GRACEFUL_SECONDS,
        log_level=logging.DEBUG,  # one line per request is access-log noise at INFO
        # The broker has no subscribers of its own (endpoints are served by EndpointServer);
        # no dependency injection is wanted anywhere.
        apply_types=False,
        # Through the standard logging tree, not FastStream's own stdout handler.
        logger=logging.getLogger("mignet.broker"),
        **options,
    )
    runtime = ServiceRuntime(spec, settings)
    router = Router(broker, runtime)
    if spec.routes is not None and settings.serves_requests:
        spec.routes(router)
    _admin_routes(router)

    async def before() -> None:
        await wait_for_dependencies(settings)

    async def after() -> None:
        # Listening before the runtime is ready, as before: early requests wait in wait_ready().
        await router.server.start(broker.connection)
        await runtime.start(broker.connection)

    async def shutdown() -> None:
        # Requests under way finish while NATS and MongoDB are still there.
        await router.server.stop(GRACEFUL_SECONDS)
        await runtime.stop()

    app = FastStream(broker, on_startup=[before], after_startup=[after], on_shutdown=[shutdown])
    return BuiltService(app=app, broker=broker, runtime=runtime, endpoints=router.server)


def run(spec: ServiceSpec) -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    built = build_app(spec, settings)
    asyncio.run(built.app.run())
