"""Service configuration from the environment (twelve-factor); defaults suit `make run`."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


ROLES = ("all", "commands", "projections")


@dataclass(frozen=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: str | None = None
    mongodb_url: str = "mongodb://127.0.0.1:27017"
    db_prefix: str = "mignet"
    log_level: str = "INFO"
    #: How long a service waits for NATS and MongoDB at start before giving up.
    startup_timeout: int = 120
    duplicate_window_hours: int = 6
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
    #: ``projections`` (read models only: run exactly one per service).
    role: str = "all"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise SystemExit(f"MIGNET_ROLE must be one of {', '.join(ROLES)}, not {self.role!r}")
        if self.request_queue < 0:
            raise SystemExit(f"MIGNET_REQUEST_QUEUE must be 0 or more, not {self.request_queue}")
        if self.max_queue_wait_ms < 0:
            raise SystemExit(f"MIGNET_MAX_QUEUE_WAIT_MS must be 0 or more, not {self.max_queue_wait_ms}")
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
        values = dict(
            nats_url=env.get("NATS_URL", cls.nats_url),
            nats_user=env.get("NATS_USER") or None,
            nats_password=env.get("NATS_PASSWORD") or None,
            mongodb_url=env.get("MONGODB_URL", cls.mongodb_url),
            db_prefix=env.get("MIGNET_DB_PREFIX", cls.db_prefix),
            log_level=env.get("LOG_LEVEL", cls.log_level).upper(),
            startup_timeout=_int("MIGNET_STARTUP_TIMEOUT", cls.startup_timeout),
            duplicate_window_hours=_int("MIGNET_DUPLICATE_WINDOW_HOURS", cls.duplicate_window_hours),
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
        )
        values.update(overrides)
        return cls(**values)

    def database(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def nats_options(self) -> dict:
        options: dict = {"servers": [self.nats_url]}
        if self.nats_user:
            options["user"] = self.nats_user
            options["password"] = self.nats_password or ""
        return options
