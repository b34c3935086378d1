"""What the notifier tests share: a test config, the service in-process, and a real webhook receiver.

The receiver is a small HTTP/1.1 server on loopback (asyncio streams, keep-alive),
so each test decides exactly how it answers: status, headers, or never.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import nats

from mignet_contracts import registry as r
from mignet_contracts.envelope import new_id
from mignet_notifier.app import make_spec
from mignet_notifier.config import NotifierConfig
from mignet_runtime.client import MignetClient
from mignet_runtime.codec import EventCodec
from mignet_runtime.eventstore import EventStore

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
SECRET_KEY = b"test-notifier-secret-key-0123456789"


def config(**overrides) -> NotifierConfig:
    values = dict(
        secret_key=SECRET_KEY,
        allow_private=LOOPBACK,
        retry_schedule=(0.3, 0.3),
        jitter=0.0,
        request_timeout=1.0,
        poll_seconds=0.05,
        auto_pause_seconds=0,
    )
    return NotifierConfig(**{**values, **overrides})


def spec(**overrides):
    return make_spec(config(**overrides))


async def command(client: MignetClient, cmd) -> dict:
    """A notifier command's reply (its result holds more than a CommandResult: the secret)."""
    return MignetClient._unwrap(await client.request(cmd.subject(), cmd))


@asynccontextmanager
async def registry_writer(nats_url) -> AsyncIterator[EventStore]:
    """Appends to REGISTRY as the registry service would (its own NATS user), without running it."""
    user = "registry"
    nc = await nats.connect(nats_url.plain, user=user, password=nats_url.passwords[user], inbox_prefix=f"_INBOX_{user}")
    try:
        yield EventStore(nc, r.SERVICE, EventCodec(r.REGISTRY_EVENTS))
    finally:
        await nc.drain()


def ids() -> dict:
    return {"command_id": new_id(), "actor": "test:notifier"}


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    #: When it arrived (the event loop's clock): for waits between attempts, to the millisecond.
    at: float = 0.0


#: How the receiver answers a request: (status, extra headers) or (status, extra headers, body size in
#: bytes), or None to never answer; an async function may first wait for the test.
Reply = tuple[int, dict[str, str]] | tuple[int, dict[str, str], int] | None
Answer = Callable[[Request, int], Reply] | Callable[[Request, int], Awaitable[Reply]]
#: A response body is written in chunks of this size (until the client stops reading).
CHUNK = 64 * 1024


@dataclass
class Receiver:
    answer: Answer = lambda request, attempt: (204, {})  # noqa: E731
    requests: list[Request] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    port: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self.server.wait_closed()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def succeeded(self) -> Counter:
        """Deliveries answered 2xx, by webhook-id."""
        return self._ok

    _ok: Counter = field(default_factory=Counter)
    _handlers: set = field(default_factory=set)
    #: Response body bytes the client took (written and drained) before it closed, per request.
    body_bytes_taken: list[int] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                _, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(path, headers, body, asyncio.get_running_loop().time())
                self.requests.append(request)
                webhook_id = headers.get("webhook-id", "")
                self.attempts[webhook_id] += 1
                answer = self.answer(request, self.attempts[webhook_id])
                self.arrived.set()
                if inspect.isawaitable(answer):
                    answer = await answer
                if answer is None:
                    await asyncio.sleep(3600)  # never answers
                    return
                status, extra, size = (*answer, 0)[:3]
                if 200 <= status < 300:
                    self._ok[webhook_id] += 1
                head = f"HTTP/1.1 {status} X\r\ncontent-length: {size}\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in extra.items()
                )
                writer.write(head.encode() + b"\r\n")
                await writer.drain()
                if size:
                    await self._write_body(writer, size)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _write_body(self, writer: asyncio.StreamWriter, size: int) -> None:
        """Writes ``size`` bytes as the client takes them, counting what it took; stops when it hangs up."""
        taken = 0
        try:
            while taken < size:
                chunk = b"x" * min(CHUNK, size - taken)
                writer.write(chunk)
                await writer.drain()
                taken += len(chunk)
        finally:
            self.body_bytes_taken.append(taken)
