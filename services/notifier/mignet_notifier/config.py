"""The notifier's own settings (beyond the runtime's :class:`~mignet_runtime.settings.Settings`), from the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h after the first attempt's failure, then parked.
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)


class ConfigError(ValueError):
    """A notifier variable is malformed; the service refuses to start, saying which."""


def _floats(name: str, text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{name}: expected seconds separated by commas, such as 5,300,1800") from None
    if any(v < 0 for v in values):
        raise ConfigError(f"{name}: delays cannot be negative")
    return values


def _networks(name: str, text: str) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc} (expected addresses or CIDR ranges separated by commas)") from None


@dataclass(frozen=True)
class NotifierConfig:
    #: Derives every webhook secret (with the subscription id and secret version); keep it secret and stable.
    secret_key: bytes = b""
    #: Private, loopback etc. addresses webhooks may reach anyway (and over plain http): tests, local receivers.
    allow_private: tuple[Network, ...] = ()
    retry_schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    #: Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter].
    jitter: float = 0.2
    request_timeout: float = 15.0
    #: Concurrent deliveries per notifier process.
    concurrency: int = 32
    #: How often the worker looks for due deliveries (retries) when nothing woke it.
    poll_seconds: float = 0.25
    #: How often it looks whether the projections recorded new events (one small read of their checkpoints).
    outbox_poll_seconds: float = 0.02
    #: A subscription failing without a single success for this long is paused (0: never).
    auto_pause_seconds: float = 86_400.0
    #: The longest Retry-After honoured; longer is cut to this.
    max_retry_after: float = 3600.0
    smtp_url: str | None = None
    mail_from: str = "mignet notifications <notifications@mignet.invalid>"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> NotifierConfig:
        env = dict(os.environ if env is None else env)
        key = env.get("MIGNET_NOTIFIER_SECRET_KEY", "")
        if len(key) < 16:
            raise ConfigError(
                "MIGNET_NOTIFIER_SECRET_KEY must be set to a random string of at least 16 characters "
                "(it derives the webhook signing secrets; `make run` generates one under var/)"
            )
        values: dict = {"secret_key": key.encode()}
        if "MIGNET_NOTIFIER_ALLOW_PRIVATE" in env:
            values["allow_private"] = _networks("MIGNET_NOTIFIER_ALLOW_PRIVATE", env["MIGNET_NOTIFIER_ALLOW_PRIVATE"])
        if "MIGNET_NOTIFIER_RETRY_SCHEDULE" in env:
            values["retry_schedule"] = _floats("MIGNET_NOTIFIER_RETRY_SCHEDULE", env["MIGNET_NOTIFIER_RETRY_SCHEDULE"])
        for name, attr in (
            ("MIGNET_NOTIFIER_TIMEOUT", "request_timeout"),
            ("MIGNET_NOTIFIER_AUTO_PAUSE_SECONDS", "auto_pause_seconds"),
            ("MIGNET_NOTIFIER_POLL_SECONDS", "poll_seconds"),
            ("MIGNET_NOTIFIER_OUTBOX_POLL_SECONDS", "outbox_poll_seconds"),
        ):
            if name in env:
                (values[attr],) = _floats(name, env[name]) or (0.0,)
        if "MIGNET_NOTIFIER_CONCURRENCY" in env:
            values["concurrency"] = max(
                1, int(_floats("MIGNET_NOTIFIER_CONCURRENCY", env["MIGNET_NOTIFIER_CONCURRENCY"])[0])
            )
        if env.get("MIGNET_NOTIFIER_SMTP_URL"):
            values["smtp_url"] = env["MIGNET_NOTIFIER_SMTP_URL"]
        if env.get("MIGNET_NOTIFIER_MAIL_FROM"):
            values["mail_from"] = env["MIGNET_NOTIFIER_MAIL_FROM"]
        return cls(**values)
