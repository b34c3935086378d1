"""Serving the public pages from inside the reviews service (a ServiceSpec background task).

uvicorn runs on the service's event loop, on ``MIGNET_HTTP_HOST`` and
``MIGNET_HTTP_PORT`` (:func:`mignet_runtime.http.serve_asgi`). The service
(FastStream) owns the process's signals; the runtime stops this task by
cancelling it, and the server then stops accepting connections and finishes
the responses under way before it returns.
"""

from __future__ import annotations

from mignet_reviews.pages import create_app
from mignet_runtime.http import serve_asgi
from mignet_runtime.service import ServiceRuntime


async def serve_public_pages(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    await serve_asgi(create_app(runtime.db), settings.http_host, settings.http_port, "public regional pages")
