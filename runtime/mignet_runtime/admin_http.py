"""Every service's admin HTTP port: ``/healthz``, ``/readyz`` and ``/metrics``.

On ``MIGNET_ADMIN_HOST``:``MIGNET_ADMIN_PORT`` (by default 127.0.0.1 and the
service's own port, :data:`mignet_runtime.settings.ADMIN_PORTS`; 0 turns it
off), for probes (compose health checks, Kubernetes) and Prometheus:

- ``/healthz``: 200 while the process runs its event loop (liveness);
- ``/readyz``: 200 when every readiness check passes, else 503; the JSON body
  names each check and what failed (:mod:`mignet_runtime.readiness`);
- ``/metrics``: the Prometheus text format (:mod:`mignet_runtime.metrics`).

It listens from the very start, before NATS and MongoDB answer, so that a
starting service reads as alive and not ready rather than as dead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mignet_runtime.http import serve_asgi
from mignet_runtime.readiness import readiness

if TYPE_CHECKING:
    from mignet_runtime.metrics import ServiceMetrics
    from mignet_runtime.service import ServiceRuntime

_NO_STORE = {"cache-control": "no-store"}


def admin_app(runtime: ServiceRuntime, metrics: ServiceMetrics) -> Starlette:
    service = runtime.spec.name

    async def healthz(_: Request) -> Response:
        return JSONResponse({"service": service, "alive": True}, headers=_NO_STORE)

    async def readyz(_: Request) -> Response:
        report = await readiness(runtime)
        return JSONResponse(report, status_code=200 if report["ready"] else 503, headers=_NO_STORE)

    async def metrics_route(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_route, methods=["GET"]),
        ]
    )


async def serve_admin(runtime: ServiceRuntime, metrics: ServiceMetrics, host: str, port: int) -> None:
    await serve_asgi(admin_app(runtime, metrics), host, port, f"{runtime.spec.name} admin (/healthz /readyz /metrics)")
