"""Dependencies that stop answering: which errors mean "down", and logging an outage once.

While MongoDB is down every request that needs it fails the same way; one WARNING
when the outage starts and one INFO when it ends say everything a traceback per
request would, without burying the rest of the log.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import nats.errors
import nats.js.errors
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.monitoring import ServerHeartbeatFailedEvent, ServerHeartbeatListener, ServerHeartbeatSucceededEvent

log = logging.getLogger(__name__)

#: NATS errors that mean the server or JetStream did not answer (others are bugs or refusals).
NATS_DOWN: tuple[type[BaseException], ...] = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.FlushTimeoutError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.NoStreamResponseError,  # a stream with no leader: a node down, an election under way
)


def mongodb_down(exc: BaseException) -> bool:
    """No server to talk to (ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout...) or out of time."""
    return isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout)


#: PyMongo appends these to a selection error's one line: the client's settings and the whole
#: topology description, which say nothing the reason before them does not.
_PYMONGO_TAILS = re.compile(r" \(configured timeouts: [^)]*\)|, Timeout: .*$")


def describe(exc: BaseException | None) -> str:
    """The error's type and a one-line reason, for logs."""
    if exc is None:
        return "no reason given"
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, PyMongoError):
        text = _PYMONGO_TAILS.sub("", text)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


class Outage:
    """One dependency's state as far as the log is concerned: up, or down since when."""

    def __init__(self, dependency: str, clock: Callable[[], float] = time.monotonic):
        self.dependency = dependency
        self._clock = clock
        self.since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException | None) -> None:
        self.failures += 1
        if self.since is None:
            self.since = self._clock()
            self.failures = 1
            log.warning(
                "%s is unavailable (%s); requests that need it are answered 'unavailable' until it is back",
                self.dependency,
                describe(exc),
            )

    def recovered(self) -> None:
        if self.since is not None:
            log.info(
                "%s is back after %.1fs; %d failures while it was down",
                self.dependency,
                self._clock() - self.since,
                self.failures,
            )
            self.since = None


class Outages:
    """The outages one service tracks; shared by its endpoints and its MongoDB client's monitor."""

    def __init__(self) -> None:
        self.mongodb = Outage("MongoDB")


class MongoHeartbeats(ServerHeartbeatListener):
    """PyMongo's server monitor says when MongoDB stops and starts answering, requests or not."""

    def __init__(self, outage: Outage):
        self.outage = outage

    def started(self, event) -> None:
        pass

    def succeeded(self, event: ServerHeartbeatSucceededEvent) -> None:
        self.outage.recovered()

    def failed(self, event: ServerHeartbeatFailedEvent) -> None:
        self.outage.failed(event.reply)


class Throttled:
    """At most one log line per key per ``interval`` seconds, saying how many were held back."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, message: str, *args) -> None:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        self._last[key] = now
        suffix = f" (and {held} more like it in the last {now - last:.0f}s)" if held and last is not None else ""
        self._log.warning(message + suffix, *args)
