"""Wiring one mignet service: broker, event store, projections, endpoints, lifespan.

Each service's ``app`` module describes itself with a :class:`ServiceSpec` and
calls :func:`build_app`; everything below is shared.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from faststream import FastStream
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts.envelope import Command, Query
from mignet_runtime import logs, tracing
from mignet_runtime.admin import (
    ADMIN_REQUESTS,
    Health,
    ProjectionStatus,
    Readiness,
    RebuildProjections,
    admin_subject,
)
from mignet_runtime.admin_http import serve_admin
from mignet_runtime.codec import EventCodec
from mignet_runtime.commands import AggregateCache, CommandExecutor
from mignet_runtime.endpoints import Endpoint, EndpointServer
from mignet_runtime.erasure import privacy_routes
from mignet_runtime.errors import NotFound, Unavailable, ValidationFailed
from mignet_runtime.eventstore import (
    EventStore,
    StreamMisconfigured,
    StreamMissing,
    StreamSettings,
    stream_name,
    wait_for_stream,
)
from mignet_runtime.keystore import KeyStoreMissing, open_key_ring
from mignet_runtime.lease import Lease, LeaseCallbacks, LeaseLost, keep, lease_bucket, lease_key
from mignet_runtime.metrics import CacheCollector, ServiceMetrics, refresh_forever
from mignet_runtime.mongo_access import wait_for_mongodb
from mignet_runtime.outages import NATS_DOWN, MongoHeartbeats, Outages
from mignet_runtime.projection import Projection, ProjectionRunner
from mignet_runtime.projection_status import projection_rows
from mignet_runtime.readiness import readiness
from mignet_runtime.settings import Settings, nats_servers

log = logging.getLogger(__name__)


class StartupRefused(Exception):
    """The service will not run in this environment (say, its stream is misconfigured); exits non-zero."""


class NotStarted(RuntimeError):
    """A part of the runtime that :meth:`ServiceRuntime.start` fills in was used before it ran."""


_T = TypeVar("_T")


def _started(value: _T | None, name: str) -> _T:
    if value is None:
        raise NotStarted(f"ServiceRuntime.{name} is used before start(): await runtime.wait_ready() first")
    return value


#: How long a stopping service waits for the requests under way.
GRACEFUL_SECONDS = 15
#: How long a replica that lost the projection lease waits for its admin requests under way.
LOST_LEASE_GRACE_SECONDS = 2


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
    background: Sequence[Callable[[ServiceRuntime], Coroutine[Any, Any, None]]] = ()

    def consumers(self) -> dict[str, list[str]]:
        """The durable consumers this service uses, by stream: ``<service>-<projection>``.

        The one list of consumer names; deploy/nats/nats.conf grants exactly these
        (tests/integration/test_nats_permissions.py checks that they agree).
        """
        names: dict[str, list[str]] = {}
        own = [(self.name, p) for p in self.projections]
        foreign = [(f.service, p) for f in self.foreign for p in f.projections]
        for service, projection in own + foreign:
            names.setdefault(stream_name(service), []).append(consumer_name(self.name, projection))
        return names


def consumer_name(service: str, projection: Projection) -> str:
    return f"{service}-{projection.name}"


class ServiceRuntime:
    """What handlers need at run time; filled in once NATS and MongoDB answer."""

    def __init__(self, spec: ServiceSpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self.ready = asyncio.Event()
        #: Why the start still waits (MongoDB refusing the credentials, say): readiness shows it.
        self.startup_detail: str | None = None
        self._stopping = False
        # Filled in by start(); read through the properties below, which say so if used earlier.
        self._store: EventStore | None = None
        self._executor: CommandExecutor | None = None
        self._mongo: AsyncMongoClient | None = None
        self._db: AsyncDatabase | None = None
        self._nc: NatsClient | None = None
        self.runners: dict[str, ProjectionRunner] = {}
        self.foreign_stores: dict[str, EventStore] = {}
        self.outages = Outages()
        self._tasks: list[asyncio.Task] = []
        self._background: list[asyncio.Task] = []
        #: The projections' sources, kept to build fresh runners at every acquisition of the lease.
        self._sources: list[tuple[EventStore, Projection]] = []
        self.lease: Lease | None = None
        self._lease_missing_said = False
        #: Foreign streams a projection found missing, said once each (see _supervise).
        self._missing_streams_said: set[str] = set()
        self._lease_task: asyncio.Task | None = None
        self._lease_lost = asyncio.Event()  # a runner found a newer fence in the store
        #: Admin endpoints only the lease holder answers (subscribed while it holds the lease).
        self.holder_endpoints: EndpointServer | None = None
        #: Prometheus metrics and the admin HTTP port; None when MIGNET_ADMIN_PORT is 0.
        self.metrics: ServiceMetrics | None = None
        if settings.admin_port_of(spec.name):
            self.metrics = ServiceMetrics(spec.name)
            self.metrics.registry.register(CacheCollector(self))
        self._admin_tasks: list[asyncio.Task] = []

    @property
    def store(self) -> EventStore:
        """This service's own event store."""
        return _started(self._store, "store")

    @property
    def executor(self) -> CommandExecutor:
        return _started(self._executor, "executor")

    @property
    def executor_or_none(self) -> CommandExecutor | None:
        return self._executor

    def note_startup(self, detail: str | None) -> None:
        self.startup_detail = detail

    @property
    def mongo(self) -> AsyncMongoClient:
        return _started(self._mongo, "mongo")

    @property
    def db(self) -> AsyncDatabase:
        """This service's database (its read models, checkpoints and parked events)."""
        return _started(self._db, "db")

    @property
    def nc(self) -> NatsClient:
        return _started(self._nc, "nc")

    async def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError as exc:
            raise Unavailable(f"{self.spec.name} is still starting; try again shortly") from exc

    async def start(self, nc: NatsClient) -> None:
        s = self.settings
        # A short server selection: while MongoDB is down, requests are answered 'unavailable' in about
        # that time instead of waiting out the client's timeout. The heartbeat listener logs the outage once.
        mongo: AsyncMongoClient = AsyncMongoClient(
            s.mongodb_url,
            serverSelectionTimeoutMS=s.mongodb_timeout_ms,
            tz_aware=True,
            event_listeners=[MongoHeartbeats(self.outages.mongodb)],
        )
        self._mongo = mongo
        self._db = db = mongo[s.database(self.spec.name)]
        stream_settings = StreamSettings(duplicate_window=timedelta(hours=s.duplicate_window_hours))
        self._store = own_store = EventStore(nc, self.spec.name, self.spec.codec, stream_settings)
        if self.metrics is not None:
            own_store.on_append = self.metrics.observe_append
        try:
            await wait_for_stream(own_store, timeout=s.startup_timeout)
            own_store.keys = await open_key_ring(
                nc, self.spec.name, self.spec.codec.event_classes, wait=s.startup_timeout
            )
        except (StreamMissing, StreamMisconfigured, KeyStoreMissing) as exc:
            # Loud and final: a service never creates or repairs its stream (its NATS user may not).
            message = f"{self.spec.name} refuses to run: {exc}: run `mignet admin provision` (as the NATS admin user)"
            log.critical("%s", message)
            raise StartupRefused(message) from exc
        self._executor = CommandExecutor(own_store, AggregateCache(s.aggregate_cache_size))
        sources = [(own_store, p) for p in self.spec.projections]
        for foreign in self.spec.foreign:
            store = EventStore(nc, foreign.service, foreign.codec)
            self.foreign_stores[foreign.service] = store
            sources += [(store, p) for p in foreign.projections]
        if s.runs_projections:
            try:
                lease_key(db.name)
            except ValueError as exc:
                raise SystemExit(f"MIGNET_DB_PREFIX: {exc}") from None
            self._sources = sources
            self.runners = {p.name: self._runner(store, p, None) for store, p in sources}
        self._nc = nc
        if self._sources:
            holding = await self._first_acquisition()
            if self._stopping:
                # A stop (SIGTERM) came while starting and found no keeper to cancel: no holding may outlive it.
                await self._lease_gone()
                await _released(self.lease)
            else:
                self._lease_task = asyncio.create_task(self._hold_lease(holding), name=f"{self.spec.name}-lease")
        for task in self.spec.background if s.serves_requests else ():
            self._background.append(asyncio.create_task(task(self), name=f"{self.spec.name}-background"))
        self.ready.set()
        log.info(
            "%s ready (role %s): stream %s, %s", self.spec.name, s.role, own_store.stream, self._projections_said()
        )

    def _projections_said(self) -> str:
        """What the ready line says of the projections: a standby must not read as if it ran them."""
        if not self._sources:
            return "projections none"
        if not self.holds_lease:
            return "standing by for the projection lease"
        return f"projections {', '.join(self.runners)}"

    def _runner(self, store: EventStore, projection: Projection, lease: Lease | None) -> ProjectionRunner:
        s = self.settings
        runner = ProjectionRunner(
            store,
            self.db,
            projection,
            consumer_prefix=self.spec.name,
            batch_size=s.projection_batch,
            max_attempts=s.projection_max_attempts,
            lease=lease,
        )
        if runner.durable != consumer_name(self.spec.name, projection):
            # nats.conf grants consumers by exact name (ServiceSpec.consumers): any other name is refused.
            raise RuntimeError(f"consumer {runner.durable} is not {consumer_name(self.spec.name, projection)}")
        return runner

    @property
    def holds_lease(self) -> bool:
        return self.lease is not None and self.lease.held()

    # -- one writer per projection -----------------------------------------
    async def _open_lease(self) -> Lease | None:
        """Opens the service database's lease (and keeps it as ``self.lease``); None: not yet, try later."""
        js = self.nc.jetstream()
        try:
            lease = await Lease.open(js, self.spec.name, self.db.name)
        except nats.js.errors.BucketNotFoundError:
            # Services may not create buckets (nats.conf): `mignet admin provision` does.
            if not self._lease_missing_said:
                self._lease_missing_said = True
                log.warning(
                    "%s: the lease bucket %s does not exist; projections stand by until "
                    "`mignet admin provision` creates it",
                    self.spec.name,
                    lease_bucket(self.spec.name),
                )
            return None
        except nats.errors.Error as exc:
            log.warning("cannot open the projection lease (%r); retrying in 5s", exc)
            return None
        self.lease = lease
        log.info(
            "%s: projections run only while this replica holds the lease %s (TTL %.0fs)",
            self.spec.name,
            lease.key,
            lease.ttl,
        )
        return lease

    async def _first_acquisition(self) -> bool:
        """At start, so a lone replica runs its projections as soon as it is ready, as before."""
        lease = await self._open_lease()
        if lease is None or self._stopping or not await lease.try_acquire() or self._stopping:
            return False
        await self._lease_acquired(lease.fencing_token())
        return True

    async def _hold_lease(self, holding: bool) -> None:
        """Every replica that runs projections competes for the lease; the holder runs them all."""
        lease = self.lease
        while lease is None:
            lease = await self._open_lease()
            if lease is None:
                await asyncio.sleep(5)
        while True:
            try:
                await keep(
                    lease,
                    LeaseCallbacks(self._lease_acquired, self._lease_gone),
                    self._lease_lost,
                    holding=holding,
                )
            except Exception:
                # keep() has stopped the projections already; never leave them off for good.
                log.exception("%s: the projection lease keeper failed; retrying in 5s", self.spec.name)
                await lease.release()
                await asyncio.sleep(5)
            holding = False

    async def _lease_acquired(self, token: int) -> None:
        # Fresh runners: nothing of an earlier holding (ids, failures, consumers) carries over.
        self.runners = {p.name: self._runner(store, p, self.lease) for store, p in self._sources}
        self._tasks = [
            asyncio.create_task(self._supervise(r), name=f"projection-{r.durable}") for r in self.runners.values()
        ]
        if self.holder_endpoints is not None:
            await self.holder_endpoints.start(self.nc)
        log.info("%s: running projections %s under fencing token %d", self.spec.name, ", ".join(self.runners), token)

    async def _lease_gone(self) -> None:
        """Stops the runners at once: their fence checks make sure they write nothing more."""
        for runner in self.runners.values():
            runner.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=1)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.holder_endpoints is not None:
            await self.holder_endpoints.stop(LOST_LEASE_GRACE_SECONDS)
        # While the process stops, "standing by" would promise a takeover that will not come.
        log.info("%s: projections stopped%s", self.spec.name, "" if self._stopping else "; standing by")

    async def _supervise(self, runner: ProjectionRunner) -> None:
        while True:
            try:
                await runner.run()
                return
            except asyncio.CancelledError:
                raise
            except LeaseLost as exc:
                log.warning("%s; stopping the projections", exc)
                self._lease_lost.set()
                return
            except NotFoundError:
                # A foreign stream does not exist until `mignet admin provision` creates it: wait
                # quietly, one line per stream however many projections read it and however long.
                stream = runner.store.stream
                if stream not in self._missing_streams_said:
                    self._missing_streams_said.add(stream)
                    log.warning(
                        "projection %s: stream %s does not exist yet; waiting for `mignet admin provision`"
                        " (retrying every 5s without saying so again)",
                        runner.durable,
                        stream,
                    )
                await asyncio.sleep(5)
            except NATS_DOWN as exc:
                # A node lost or an election under way: expected on a cluster, no traceback for it.
                log.warning("projection %s: NATS did not answer (%r); restarting in 5s", runner.durable, exc)
                await asyncio.sleep(5)
            except Exception:
                log.exception("projection %s stopped; restarting in 5s", runner.durable)
                await asyncio.sleep(5)

    def start_admin(self) -> None:
        """The admin HTTP port and the metrics refresher: from the very start, so a starting service is
        seen as alive and not ready. Stopped last by :meth:`stop`."""
        metrics, s = self.metrics, self.settings
        if metrics is None or self._admin_tasks:
            return
        port = s.admin_port_of(self.spec.name)
        self._admin_tasks = [
            asyncio.create_task(serve_admin(self, metrics, s.admin_host, port), name=f"{self.spec.name}-admin-http"),
            asyncio.create_task(
                refresh_forever(self, metrics, s.metrics_refresh_ms / 1000), name=f"{self.spec.name}-metrics"
            ),
        ]

    async def stop(self) -> None:
        self._stopping = True
        # Background tasks (an HTTP server) stop on cancellation only.
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._lease_task is not None:
            # Cancelling the keeper stops the runners first (its finally); only then is the
            # lease released, so the next holder (or our restart) need not wait a TTL.
            self._lease_task.cancel()
            await asyncio.gather(self._lease_task, return_exceptions=True)
        await _released(self.lease)
        # Before MongoDB closes: the refresher would otherwise say it cannot read it.
        await self.stop_admin()
        if self._mongo is not None:
            await self._mongo.close()
        log.info("%s stopped", self.spec.name)

    async def stop_admin(self) -> None:
        tasks, self._admin_tasks = self._admin_tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _released(lease: Lease | None) -> None:
    if lease is not None:
        await lease.release()


class Router:
    """Registers the request-reply endpoints of one service (served by :class:`EndpointServer`)."""

    def __init__(self, broker: NatsBroker, runtime: ServiceRuntime):
        self.broker = broker
        self.runtime = runtime
        self.workers = runtime.settings.command_workers
        settings = runtime.settings
        self.server = EndpointServer(
            self.workers, settings.request_queue, runtime.outages, max_wait=settings.max_queue_wait_ms / 1000
        )
        #: Served only while this replica holds the projection lease.
        self.holder_server = EndpointServer(
            self.workers, settings.request_queue, runtime.outages, max_wait=settings.max_queue_wait_ms / 1000
        )
        runtime.holder_endpoints = self.holder_server
        if runtime.metrics is not None:
            self.server.observer = self.holder_server.observer = runtime.metrics.observe_reply

    def _endpoint(
        self, subject: str, model, handler, queue: str, server: EndpointServer | None = None, bounded: bool = False
    ) -> None:
        runtime = self.runtime

        async def run(request):
            await runtime.wait_ready()
            return await handler(request)

        (server or self.server).add(Endpoint(subject, queue, model, run, bounded=bounded))

    def command(self, model: type[Command], handler: Callable[[Any], Awaitable[Any]]) -> None:
        async def with_ids(command: Command) -> Any:
            # Every line logged while it runs names the command (logs.py).
            with logs.bound(command_id=command.command_id, correlation_id=command.correlation_id or command.command_id):
                return await handler(command)

        self._endpoint(model.subject(), model, with_ids, queue=f"{self.runtime.spec.name}-commands")

    def query(self, model: type[Query], handler: Callable[[Any], Awaitable[Any]]) -> None:
        self._endpoint(model.subject(), model, handler, queue=f"{self.runtime.spec.name}-queries", bounded=True)

    def admin(
        self, name: str, handler: Callable[[Any], Awaitable[Any]], holder_only: bool = False, bounded: bool = False
    ) -> None:
        service = self.runtime.spec.name
        self._endpoint(
            admin_subject(service, name),
            ADMIN_REQUESTS[name],
            handler,
            queue=f"{service}-admin",
            server=self.holder_server if holder_only else None,
            bounded=bounded,
        )


def _admin_routes(router: Router) -> None:
    runtime = router.runtime
    service = runtime.spec.name

    async def health(_: Health) -> dict:
        # MongoDB down: PyMongo's ServerSelectionTimeoutError, answered 'unavailable' by the endpoint layer.
        await runtime.mongo.admin.command("ping")
        if not runtime.settings.runs_projections:
            projections = "off"
        else:
            projections = "running" if runtime.holds_lease else "standby"
        return {
            "service": service,
            "stream": runtime.store.stream,
            "last_seq": await runtime.store.last_seq(),
            # running: this replica holds the projection lease and writes the read models;
            # standby: another replica does (or none yet), this one takes over when it goes.
            "projections": projections,
            "lease_token": runtime.lease.token if runtime.lease is not None and runtime.lease.held() else None,
        }

    async def status(_: ProjectionStatus) -> list[dict]:
        return await projection_rows(runtime)

    async def ready(_: Readiness) -> dict:
        # Never 'unavailable': a dependency that does not answer is a failed check in the report.
        return await readiness(runtime)

    async def rebuild(request: RebuildProjections) -> list[dict]:
        if request.progress_subject and not request.progress_subject.startswith(f"{service}.admin.progress."):
            raise ValidationFailed(
                f"progress_subject must start with {service}.admin.progress.", field="progress_subject"
            )
        names = request.projections or list(runtime.runners)
        unknown = [n for n in names if n not in runtime.runners]
        if unknown:
            raise NotFound(
                f"no projection named {', '.join(unknown)}; known: {', '.join(runtime.runners)}", field="projections"
            )
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

            try:
                documents = await runtime.runners[name].rebuild(progress)
            except LeaseLost as exc:
                raise Unavailable(
                    f"this replica lost the projection lease during the rebuild ({exc}); "
                    "the new holder answers: try again"
                ) from exc
            results.append(
                {"projection": name, "documents": documents, "seconds": round(time.perf_counter() - started, 3)}
            )
        return results

    router.admin("health", health, bounded=True)
    privacy_routes(router)
    router.admin("ready", ready)
    if runtime.settings.runs_projections:
        # Only the replica that holds the projection lease (and so runs the projections) reports
        # on them or rebuilds them: it subscribes to these while it holds the lease, no longer.
        router.admin("projections.status", status, holder_only=True)
        router.admin("projections.rebuild", rebuild, holder_only=True)


def configure_logging(level: str, service: str = "mignet", fmt: str = "auto") -> None:
    # JSON lines off a terminal, readable lines on one; each with the service and the request's ids.
    logs.configure(level, service, fmt)
    logging.getLogger("faststream").setLevel(logging.WARNING)
    logging.getLogger("mignet.broker").setLevel(logging.WARNING)
    # uvicorn's "Started server process" and "Shutting down" per embedded server (pages, admin port):
    # the runtime says where each listens; uvicorn's warnings and errors still show.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


async def wait_for_dependencies(
    settings: Settings, service: str = "mignet", report: Callable[[str | None], None] | None = None
) -> None:
    """Waits for NATS (with the service's own credentials, as the broker will connect) and MongoDB
    (as its own user); ``report`` hears why it still waits for MongoDB."""
    deadline = time.monotonic() + settings.startup_timeout
    while True:
        try:
            nc = await nats.connect(
                **settings.nats_connect_options(service),
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=_quiet,
            )
            await nc.close()
            break
        except Exception as exc:
            where = settings.nats_url_for_logs
            if "authorization violation" in str(exc).lower():
                # Wrong or missing credentials do not get better by waiting.
                raise SystemExit(
                    f"NATS at {where} refused {service}'s credentials (authorization violation): "
                    "check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED"
                ) from exc
            if time.monotonic() > deadline:
                raise SystemExit(f"NATS at {where} did not answer within {settings.startup_timeout}s: {exc}") from exc
            log.warning("waiting for NATS at %s (%s)", where, exc)
            await asyncio.sleep(1)
    await wait_for_mongodb(settings, report, deadline)


async def _quiet(_: Exception) -> None:
    # The retry loop above reports connection errors once per attempt, plainly.
    return None


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
    broker = NatsBroker(
        nats_servers(settings.nats_url),
        # Credentials through FastStream's own security object (user/password, token, .creds, NKey).
        security=settings.nats_security(),
        # Replies (JetStream API, requests, pull consumers, KV) arrive below this user's own prefix only.
        inbox_prefix=settings.inbox_prefix(spec.name),
        name=f"mignet-{spec.name}",
        max_reconnect_attempts=-1,
        graceful_timeout=GRACEFUL_SECONDS,
        log_level=logging.DEBUG,  # one line per request is access-log noise at INFO
        # The broker has no subscribers of its own (endpoints are served by EndpointServer);
        # no dependency injection is wanted anywhere.
        apply_types=False,
        # Through the standard logging tree, not FastStream's own stdout handler.
        logger=logging.getLogger("mignet.broker"),
    )
    runtime = ServiceRuntime(spec, settings)
    router = Router(broker, runtime)
    if spec.routes is not None and settings.serves_requests:
        spec.routes(router)
    _admin_routes(router)

    async def before() -> None:
        runtime.start_admin()
        try:
            await wait_for_dependencies(settings, spec.name, runtime.note_startup)
        except SystemExit as exc:
            # Refused (wrong credentials, no answer in time): as an Exception, not SystemExit, which
            # would escape the event loop from FastStream's start-up task and leave its main task
            # to be cancelled by asyncio.run, which then logs the refusal again with a traceback.
            await runtime.stop_admin()
            raise StartupRefused(str(exc)) from None

    async def after() -> None:
        # Listening before the runtime is ready, as before: early requests wait in wait_ready().
        await router.server.start(broker.connection)
        try:
            await runtime.start(broker.connection)
        except (SystemExit, StartupRefused) as exc:
            await runtime.stop_admin()
            raise StartupRefused(str(exc)) from None

    async def shutdown() -> None:
        # Requests under way finish while NATS and MongoDB are still there.
        await router.server.stop(GRACEFUL_SECONDS)
        await runtime.stop()

    app = FastStream(broker, on_startup=[before], after_startup=[after], on_shutdown=[shutdown])
    return BuiltService(app=app, broker=broker, runtime=runtime, endpoints=router.server)


def run(spec: ServiceSpec) -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, spec.name, settings.log_format)
    provider = tracing.configure_from_env(spec.name)  # OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
    built = build_app(spec, settings)
    try:
        asyncio.run(built.app.run())
    except StartupRefused as exc:
        raise SystemExit(str(exc)) from None
    except BaseExceptionGroup as group:
        # FastStream runs the start-up hooks in a task group: unwrap, so the operator reads one line.
        refused = group.subgroup(lambda e: isinstance(e, (StartupRefused, SystemExit)))
        if refused is None:
            raise
        first = refused
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise SystemExit(str(first)) from None
    finally:
        if provider is not None:
            provider.shutdown()  # exports the spans still queued
