"""Serving the public pages from inside the reviews service (a ServiceSpec background task).

uvicorn runs on the service's event loop, on ``MIGNET_HTTP_HOST`` and
``MIGNET_HTTP_PORT``. The service (FastStream) owns the process's signals;
the runtime stops this task by cancelling it, and the server then stops
accepting connections and finishes the responses under way before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn

from mignet_reviews.pages import create_app
from mignet_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)

BIND_RETRY_SECONDS = 5.0


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: they would take SIGTERM away from the service."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def bind(host: str, port: int) -> socket.socket:
    # Bound here rather than by uvicorn, which calls sys.exit() when the port is taken.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says so, and without it every kept-alive response waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def serve_public_pages(runtime: ServiceRuntime) -> None:
    host, port = runtime.settings.http_host, runtime.settings.http_port
    while True:
        try:
            sock = bind(host, port)
            break
        except OSError as exc:
            # Commands and queries still work; the pages come up once the port is free.
            log.error(
                "public pages cannot listen on %s:%d (%s); retrying in %.0fs", host, port, exc, BIND_RETRY_SECONDS
            )
            await asyncio.sleep(BIND_RETRY_SECONDS)
    config = uvicorn.Config(
        create_app(runtime.db),
        lifespan="off",
        http="h11",
        ws="none",
        log_config=None,  # keep the service's logging setup
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=3,
    )
    server = EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="reviews-public-pages")
    log.info("public regional pages on http://%s:%d/", host, sock.getsockname()[1])
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise
    finally:
        sock.close()
