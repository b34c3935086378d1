"""Serving an ASGI app on the service's own event loop (public pages, the admin endpoints).

uvicorn runs beside the FastStream app. The service owns the process's
signals; the runtime stops such a server by cancelling its task, and the
server then stops accepting connections and finishes the responses under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

import uvicorn

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


async def serve_asgi(app: Any, host: str, port: int, what: str, started: asyncio.Event | None = None) -> None:
    """Serves ``app`` until cancelled; while the port is taken, says so and retries every few seconds.

    ``started`` is set once the socket listens (tests read the port then from the log or a port-0 bind).
    """
    while True:
        try:
            sock = bind(host, port)
            break
        except OSError as exc:
            # The rest of the service works meanwhile; this server comes up once the port is free.
            log.error("%s cannot listen on %s:%d (%s); retrying in %.0fs", what, host, port, exc, BIND_RETRY_SECONDS)
            await asyncio.sleep(BIND_RETRY_SECONDS)
    config = uvicorn.Config(
        app,
        lifespan="off",
        http="h11",
        ws="none",
        log_config=None,  # keep the service's logging setup
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=3,
    )
    server = EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]), name=what)
    log.info("%s on http://%s:%d/", what, host, sock.getsockname()[1])
    if started is not None:
        started.set()
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise
    finally:
        sock.close()
