"""Provisioning: the administrative step that creates each service's stream, lease and key buckets.

Services may not create or change streams (their NATS users lack STREAM.CREATE and
STREAM.UPDATE: a service's own credentials could otherwise age its event store out).
An operator runs this with the NATS ``admin`` user, as ``mignet admin provision``; the
local stack and the test fixtures call :func:`provision` directly.

A stream that exists with another configuration is brought back to the expected one
only where that is safe: limits (max age, message and byte caps), the duplicate
window, deny delete/purge, Direct Get, atomic batches, and the replica count
(``MIGNET_STREAM_REPLICAS``: JetStream copies a stream to new peers while it keeps
serving, so growing from 1 to 3 when a cluster arrives is safe; a single server refuses
more than 1, and that refusal is reported). It refuses to change the subjects (messages
already stored on other subjects would stay, and new ones could be captured from
elsewhere), the retention policy and the storage type: each needs an operator's
decision (and usually a migration), not a quiet fix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from nats.js.api import DiscardPolicy, KeyValueConfig, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from mignet_contracts.feed import FEED_ACCOUNT, PUBLIC_STREAM
from mignet_contracts.feed import SOURCES as FEED_SOURCES
from mignet_runtime.eventstore import StreamSettings, expected_stream_config, stream_differences
from mignet_runtime.keystore import keys_bucket
from mignet_runtime.lease import lease_bucket
from mignet_runtime.public_feed import provision_public_stream
from mignet_runtime.settings import Settings

log = logging.getLogger(__name__)

#: The services that own a stream.
PROVISIONED_SERVICES = ("registry", "reviews", "notifier")

#: Differences provisioning will not "fix": see the module docstring.
UNSAFE_FIELDS = frozenset({"subjects", "retention", "storage"})


def lease_stream(service: str) -> str:
    return f"KV_{lease_bucket(service)}"


@dataclass(frozen=True)
class Step:
    """One thing provisioning did (or refused to do), for the operator to read."""

    target: str
    outcome: str  # created | updated | unchanged | skipped | refused
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.target}: {self.outcome}" + (f" ({self.detail})" if self.detail else "")


class ProvisioningRefused(Exception):
    def __init__(self, steps: list[Step]):
        super().__init__("; ".join(str(s) for s in steps if s.outcome == "refused"))
        self.steps = steps


def stream_settings(settings: Settings) -> StreamSettings:
    return StreamSettings(
        duplicate_window=timedelta(hours=settings.duplicate_window_hours), replicas=settings.stream_replicas
    )


def lease_bucket_config(service: str, settings: Settings) -> KeyValueConfig:
    # The agreed lease spec: one value per key, on disk, replicas like the streams, expiring
    # after MIGNET_LEASE_SECONDS unless renewed; Direct Get so reads are cheap.
    return KeyValueConfig(
        bucket=lease_bucket(service),
        description=f"mignet {service} projection leases",
        history=1,
        ttl=float(settings.lease_seconds),
        storage=StorageType.FILE,
        replicas=stream_settings(settings).replicas,
        direct=True,
    )


#: JetStream's "no suitable peers for placement": a fresh cluster whose leader has not yet heard from every node.
ERR_NO_SUITABLE_PEERS = 10005
PLACEMENT_WAIT_SECONDS = 30.0


async def _placed(call, config):
    """``call(config)``, waiting out a cluster that cannot place replicas *yet* (nodes still reporting in
    after a start); a cluster that still cannot after PLACEMENT_WAIT_SECONDS is refused as before."""
    deadline = time.monotonic() + PLACEMENT_WAIT_SECONDS
    while True:
        try:
            return await call(config)
        except APIError as exc:
            if exc.err_code != ERR_NO_SUITABLE_PEERS or time.monotonic() > deadline:
                raise
            log.info("provision: the cluster cannot place replicas yet (%s); retrying", exc.description)
            await asyncio.sleep(0.5)


def _describe(differences: dict[str, tuple]) -> str:
    return ", ".join(f"{field} {have!r} -> {want!r}" for field, (want, have) in differences.items())


async def _provision_stream(js, expected: StreamConfig) -> Step:
    try:
        info = await js.stream_info(expected.name)
    except NotFoundError:
        await _placed(js.add_stream, expected)
        return Step(f"stream {expected.name}", "created", f"subjects {', '.join(expected.subjects or ())}")
    differences = stream_differences(expected, info.config)
    if not differences:
        return Step(f"stream {expected.name}", "unchanged")
    unsafe = {f: d for f, d in differences.items() if f in UNSAFE_FIELDS}
    if unsafe:
        return Step(
            f"stream {expected.name}",
            "refused",
            f"will not change {_describe(unsafe)}: an operator must decide (see deploy/README.md)",
        )
    # Start from the server's own config so fields we do not manage (metadata, say) stay as they are.
    fixed = info.config.evolve(**{f: getattr(expected, f) for f in differences})
    try:
        await _placed(js.update_stream, fixed)
    except APIError as exc:
        return Step(
            f"stream {expected.name}",
            "refused",
            f"the server would not apply {_describe(differences)}: {exc.description}",
        )
    return Step(f"stream {expected.name}", "updated", _describe(differences))


def _lease_stream_expectations(config: KeyValueConfig) -> dict:
    return {
        "max_age": float(config.ttl or 0),
        "max_msgs_per_subject": config.history,
        "storage": config.storage,
        "num_replicas": config.replicas,
        "allow_direct": bool(config.direct),
    }


async def provision_lease_bucket(js, service: str, settings: Settings) -> Step:
    config = lease_bucket_config(service, settings)
    name = lease_stream(service)
    target = f"lease bucket {config.bucket} (stream {name})"
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        await _placed(js.create_key_value, config)
        return Step(target, "created", f"history {config.history}, max age {config.ttl:g}s")
    wanted = _lease_stream_expectations(config)
    have = {field: getattr(info.config, field) for field in wanted}
    have["max_age"] = float(have["max_age"] or 0)
    have["allow_direct"] = bool(have["allow_direct"])
    differences = {f: (wanted[f], have[f]) for f in wanted if wanted[f] != have[f]}
    if not differences:
        return Step(target, "unchanged")
    unsafe = {f: d for f, d in differences.items() if f in UNSAFE_FIELDS}
    if unsafe:
        return Step(target, "refused", f"will not change {_describe(unsafe)}")
    update = {f: wanted[f] for f in differences}
    if "max_age" in update:
        # nats-py sets a KV's duplicate window to min(2 minutes, ttl); keep it within the new ttl.
        update["duplicate_window"] = min(120.0, update["max_age"])
    try:
        await _placed(js.update_stream, info.config.evolve(**update))
    except APIError as exc:
        return Step(target, "refused", f"the server would not apply {_describe(differences)}: {exc.description}")
    return Step(target, "updated", _describe(differences))


def keys_stream_config(service: str, settings: Settings) -> StreamConfig:
    """The key bucket ``keys_<service>`` (docs/privacy.md): a KV bucket's stream, but with message deletes
    allowed, so an erased key is overwritten on disk (JetStream's secure delete), not just marked purged."""
    bucket = keys_bucket(service)
    return StreamConfig(
        name=f"KV_{bucket}",
        description=f"mignet {service} data keys (personal data)",
        subjects=[f"$KV.{bucket}.>"],
        max_msgs_per_subject=1,
        max_age=0,
        storage=StorageType.FILE,
        num_replicas=stream_settings(settings).replicas,
        discard=DiscardPolicy.NEW,
        duplicate_window=120,
        allow_rollup_hdrs=True,
        deny_delete=False,
        deny_purge=False,
        allow_direct=True,
    )


async def provision_keys_bucket(js, service: str, settings: Settings) -> Step:
    expected = keys_stream_config(service, settings)
    target = f"key bucket {keys_bucket(service)} (stream {expected.name})"
    try:
        info = await js.stream_info(expected.name)
    except NotFoundError:
        await _placed(js.add_stream, expected)
        return Step(target, "created", "history 1, secure deletes allowed")
    fields = ("subjects", "max_msgs_per_subject", "storage", "num_replicas", "allow_rollup_hdrs", "deny_delete")
    differences = {f: (getattr(expected, f), getattr(info.config, f)) for f in fields}
    differences = {f: (want, have) for f, (want, have) in differences.items() if want != have}
    if not differences:
        return Step(target, "unchanged")
    if set(differences) == {"num_replicas"}:
        # Scaled like the streams (module docstring): the keys must survive a node as the events do.
        try:
            await _placed(js.update_stream, info.config.evolve(num_replicas=expected.num_replicas))
        except APIError as exc:
            return Step(target, "refused", f"the server would not apply {_describe(differences)}: {exc.description}")
        return Step(target, "updated", _describe(differences))
    return Step(target, "refused", f"will not change {_describe(differences)}: an operator must decide")


async def provision(nc, settings: Settings, services: Iterable[str] = PROVISIONED_SERVICES) -> list[Step]:
    """Create or repair each service's stream and lease bucket, and the public feed
    (:mod:`mignet_runtime.public_feed`); raises :class:`ProvisioningRefused`
    (after doing everything else) when something could not be brought to the expected configuration."""
    js = nc.jetstream(timeout=10)
    steps: list[Step] = []
    if settings.stream_replicas > 1 and not _cluster_name(nc):
        # A lone server accepts num_replicas 3 and keeps one copy: the config would promise what is not.
        step = Step(
            "streams and lease buckets",
            "refused",
            f"MIGNET_STREAM_REPLICAS is {settings.stream_replicas} but this nats-server is not part of a cluster:"
            " it would keep one copy whatever the configuration says; set MIGNET_STREAM_REPLICAS=1 or cluster it",
        )
        log.error("provision: %s", step)
        raise ProvisioningRefused([step])
    services = tuple(services)
    for service in services:
        steps.append(await _provision_stream(js, expected_stream_config(service, stream_settings(settings))))
        steps.append(await provision_lease_bucket(js, service, settings))
        steps.append(await provision_keys_bucket(js, service, settings))
    if {stream.lower() for stream in FEED_SOURCES} <= set(services):  # the streams the public feed sources
        outcome, detail = await provision_public_stream(nc, stream_settings(settings).replicas)
        steps.append(Step(f"stream {PUBLIC_STREAM} (account {FEED_ACCOUNT})", outcome, detail))
    for step in steps:
        level = {"refused": logging.ERROR, "skipped": logging.WARNING}.get(step.outcome, logging.INFO)
        log.log(level, "provision: %s", step)
    if any(step.outcome == "refused" for step in steps):
        raise ProvisioningRefused(steps)
    return steps


def _cluster_name(nc) -> str | None:
    # From the server's INFO, which nats-py keeps but does not expose; tested against a lone server
    # and a cluster (tests/integration/test_provision.py, test_node_loss.py).
    return (getattr(nc, "_server_info", None) or {}).get("cluster")


async def provision_with(settings: Settings, services: Iterable[str] = PROVISIONED_SERVICES) -> list[Step]:
    """Connect with ``settings``' credentials (the admin user's) and :func:`provision`."""
    import nats

    async def quiet(_: Exception) -> None:  # the caller reports a failure once, plainly
        return None

    nc = await nats.connect(
        **settings.nats_connect_options(settings.nats_user or "admin"),
        connect_timeout=5,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        error_cb=quiet,
    )
    try:
        return await provision(nc, settings, services)
    finally:
        await nc.close()
