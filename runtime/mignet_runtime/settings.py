"""Service configuration from the environment (twelve-factor); defaults suit `make run`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.nats import NatsCredentials, NatsNKey, NatsToken, NatsUserPassword
from faststream.nats.security import parse_security
from faststream.security import BaseSecurity


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


ROLES = ("all", "commands", "projections")

#: Each service's default admin port (/healthz, /readyz, /metrics), so that they can share a host.
ADMIN_PORTS = {"registry": 9101, "reviews": 9102, "notifier": 9103}
#: The default admin port of a service not listed above.
ADMIN_PORT_FALLBACK = 9100

#: The ways a service may authenticate to NATS; exactly one (or none, for an open local server).
CREDENTIAL_VARIABLES = ("NATS_USER/NATS_PASSWORD", "NATS_TOKEN", "NATS_CREDS", "NATS_NKEY_SEED")


def _readable_file(variable: str, value: str) -> str:
    path = Path(value)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise SystemExit(f"{variable} must name a readable file, and {value!r} is not one")
    return value


def nats_servers(url: str) -> list[str]:
    """``NATS_URL`` may list a cluster's servers separated by commas; the client tries them all."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise SystemExit("NATS_URL is empty: give one server URL, or several separated by commas")
    return servers


def redact_url(url: str) -> str:
    if "," in url:
        return ",".join(redact_url(part.strip()) for part in url.split(","))
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return (scheme + sep if sep else "") + netloc + slash + path


def default_inbox_prefix(user: str) -> str:
    """Each NATS user subscribes only below its own prefix (deploy/nats/nats.conf), so no one reads others' replies."""
    return f"_INBOX_{user}"


@dataclass(frozen=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: str | None = None
    nats_token: str | None = None
    #: Paths, not values: a ``.creds`` file (user JWT and seed) or an NKey seed file.
    nats_creds_file: str | None = None
    nats_nkey_seed_file: str | None = None
    #: Where this connection's replies arrive; by default ``_INBOX_<service>``, the prefix nats.conf lets it read.
    nats_inbox_prefix: str | None = None
    mongodb_url: str = "mongodb://127.0.0.1:27017"
    db_prefix: str = "mignet"
    log_level: str = "INFO"
    #: How long a service waits for NATS and MongoDB at start before giving up.
    startup_timeout: int = 120
    duplicate_window_hours: int = 6
    #: Replicas of each stream and KV bucket that `mignet admin provision` creates or scales to:
    #: 1 on one server, 3 on a three-node cluster (nothing acknowledged is lost with a node).
    stream_replicas: int = 1
    aggregate_cache_size: int = 10_000
    projection_batch: int = 500
    projection_max_attempts: int = 5
    command_workers: int = 16
    #: Requests that may wait per endpoint beyond the workers; more are refused with a retry hint.
    request_queue: int = 64
    #: The longest a request is expected to wait in that queue before it starts; longer is refused.
    max_queue_wait_ms: int = 1000
    #: How long a request waits for MongoDB to be found before it is answered 'unavailable'.
    mongodb_timeout_ms: int = 1000
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    #: ``all``; ``commands`` (requests and pages, no projections: run as many as you like);
    #: ``projections`` (read models only). Of the replicas that run projections, the one holding
    #: the projection lease writes; the others stand by.
    role: str = "all"
    #: Lifetime of a projection lease (one writer per service database): the lease KV bucket's
    #: max_age, set by ``mignet admin provision``; services read it from the bucket.
    lease_seconds: int = 10
    #: The admin HTTP server (/healthz, /readyz, /metrics): None is the service's default
    #: (ADMIN_PORTS), 0 turns it and the metrics off.
    admin_host: str = "127.0.0.1"
    admin_port: int | None = None
    #: ``auto`` (JSON lines unless standard error is a terminal), ``json`` or ``text``.
    log_format: str = "auto"
    #: How often the gauges that need a round trip (projection lag, parked, readiness) are refreshed.
    metrics_refresh_ms: int = 5000

    def __post_init__(self) -> None:
        if not 1 <= self.stream_replicas <= 5:
            raise SystemExit(f"MIGNET_STREAM_REPLICAS must be 1 to 5 (JetStream's limit), not {self.stream_replicas}")
        if self.role not in ROLES:
            raise SystemExit(f"MIGNET_ROLE must be one of {', '.join(ROLES)}, not {self.role!r}")
        if self.nats_password and not self.nats_user:
            raise SystemExit("NATS_PASSWORD is set without NATS_USER: set both, or neither")
        if self.nats_user and not self.nats_password:
            raise SystemExit("NATS_USER is set without NATS_PASSWORD: set both, or neither")
        chosen = [
            name
            for name, value in zip(
                CREDENTIAL_VARIABLES,
                (self.nats_user, self.nats_token, self.nats_creds_file, self.nats_nkey_seed_file),
                strict=True,
            )
            if value
        ]
        if len(chosen) > 1:
            raise SystemExit(f"set one way of authenticating to NATS, not {' and '.join(chosen)}")
        if chosen and redact_url(self.nats_url) != self.nats_url:
            raise SystemExit(f"NATS_URL carries credentials (user:password@) and {chosen[0]} is set too: use one")
        for variable, path in (("NATS_CREDS", self.nats_creds_file), ("NATS_NKEY_SEED", self.nats_nkey_seed_file)):
            if path:
                _readable_file(variable, path)
        if self.lease_seconds < 2:
            raise SystemExit(f"MIGNET_LEASE_SECONDS must be at least 2, not {self.lease_seconds}")
        if self.request_queue < 0:
            raise SystemExit(f"MIGNET_REQUEST_QUEUE must be 0 or more, not {self.request_queue}")
        if self.max_queue_wait_ms < 0:
            raise SystemExit(f"MIGNET_MAX_QUEUE_WAIT_MS must be 0 or more, not {self.max_queue_wait_ms}")
        if self.log_format not in ("auto", "json", "text"):
            raise SystemExit(f"MIGNET_LOG_FORMAT must be auto, json or text, not {self.log_format!r}")
        if self.admin_port is not None and not 0 <= self.admin_port <= 65535:
            raise SystemExit(f"MIGNET_ADMIN_PORT must be a port number from 0 to 65535, not {self.admin_port}")
        if self.metrics_refresh_ms < 100:
            raise SystemExit(f"MIGNET_METRICS_REFRESH_MS must be 100 or more, not {self.metrics_refresh_ms}")
        if self.mongodb_timeout_ms < 1:
            raise SystemExit(f"MIGNET_MONGODB_TIMEOUT_MS must be 1 or more, not {self.mongodb_timeout_ms}")

    @property
    def serves_requests(self) -> bool:
        return self.role in ("all", "commands")

    @property
    def runs_projections(self) -> bool:
        return self.role in ("all", "projections")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        values: dict[str, Any] = dict(
            nats_url=env.get("NATS_URL", cls.nats_url),
            nats_user=env.get("NATS_USER") or None,
            nats_password=env.get("NATS_PASSWORD") or None,
            nats_token=env.get("NATS_TOKEN") or None,
            nats_creds_file=env.get("NATS_CREDS") or None,
            nats_nkey_seed_file=env.get("NATS_NKEY_SEED") or None,
            nats_inbox_prefix=env.get("NATS_INBOX_PREFIX") or None,
            mongodb_url=env.get("MONGODB_URL", cls.mongodb_url),
            db_prefix=env.get("MIGNET_DB_PREFIX", cls.db_prefix),
            log_level=env.get("LOG_LEVEL", cls.log_level).upper(),
            startup_timeout=_int("MIGNET_STARTUP_TIMEOUT", cls.startup_timeout),
            duplicate_window_hours=_int("MIGNET_DUPLICATE_WINDOW_HOURS", cls.duplicate_window_hours),
            stream_replicas=_int("MIGNET_STREAM_REPLICAS", cls.stream_replicas),
            aggregate_cache_size=_int("MIGNET_AGGREGATE_CACHE", cls.aggregate_cache_size),
            projection_batch=_int("MIGNET_PROJECTION_BATCH", cls.projection_batch),
            projection_max_attempts=_int("MIGNET_PROJECTION_MAX_ATTEMPTS", cls.projection_max_attempts),
            command_workers=_int("MIGNET_COMMAND_WORKERS", cls.command_workers),
            request_queue=_int("MIGNET_REQUEST_QUEUE", cls.request_queue),
            max_queue_wait_ms=_int("MIGNET_MAX_QUEUE_WAIT_MS", cls.max_queue_wait_ms),
            mongodb_timeout_ms=_int("MIGNET_MONGODB_TIMEOUT_MS", cls.mongodb_timeout_ms),
            http_host=env.get("MIGNET_HTTP_HOST", cls.http_host),
            http_port=_int("MIGNET_HTTP_PORT", cls.http_port),
            role=env.get("MIGNET_ROLE", cls.role).lower(),
            lease_seconds=_int("MIGNET_LEASE_SECONDS", cls.lease_seconds),
            admin_host=env.get("MIGNET_ADMIN_HOST", cls.admin_host),
            admin_port=_int("MIGNET_ADMIN_PORT", -1) if env.get("MIGNET_ADMIN_PORT") else None,
            metrics_refresh_ms=_int("MIGNET_METRICS_REFRESH_MS", cls.metrics_refresh_ms),
            log_format=env.get("MIGNET_LOG_FORMAT", cls.log_format).lower(),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def nats_url_for_logs(self) -> str:
        """The URL without any ``user:password@`` part: log lines must not carry secrets."""
        return redact_url(self.nats_url)

    def admin_port_of(self, service: str) -> int:
        """This service's admin port: MIGNET_ADMIN_PORT, else its default; 0 means none."""
        if self.admin_port is not None:
            return self.admin_port
        return ADMIN_PORTS.get(service, ADMIN_PORT_FALLBACK)

    def database(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def nats_security(self) -> BaseSecurity | None:
        """The credentials as one of FastStream's security objects (what ``NatsBroker(security=)`` takes)."""
        if self.nats_user:
            return NatsUserPassword(self.nats_user, self.nats_password or "")
        if self.nats_token:
            return NatsToken(self.nats_token)
        if self.nats_creds_file:
            return NatsCredentials.from_file(self.nats_creds_file)
        if self.nats_nkey_seed_file:
            return NatsNKey.from_file(self.nats_nkey_seed_file)
        return None

    def inbox_prefix(self, default_user: str) -> str:
        return self.nats_inbox_prefix or default_inbox_prefix(default_user)

    def nats_connect_options(self, default_user: str) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect``: the very credentials the broker uses, through FastStream's
        own translation of its security object, so a plain connection (the start-up wait, provisioning)
        authenticates exactly as the service does."""
        security = self.nats_security()
        options: dict[str, Any] = {
            "servers": nats_servers(self.nats_url),
            "inbox_prefix": self.inbox_prefix(default_user),
        }
        if security is not None:
            options.update({k: v for k, v in parse_security(security).items() if v is not None})
        return options


def nats_credentials_from_env(default_user: str) -> dict[str, Any]:
    """``nats.connect`` keyword arguments for the credentials in the environment (for the CLI), without servers."""
    settings = Settings.from_env()
    # A user's inbox prefix follows its name (nats.conf grants _INBOX_<user>.>).
    options = settings.nats_connect_options(settings.nats_user or default_user)
    options.pop("servers")
    return options
