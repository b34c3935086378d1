"""`mignet admin provision`: creates streams and lease buckets, repairs what is safe, refuses the rest."""

from __future__ import annotations

import asyncio

import nats
import pytest
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_runtime.eventstore import expected_stream_config
from mignet_runtime.localstack import dev_passwords, start_secured_nats
from mignet_runtime.provision import ProvisioningRefused, lease_bucket, lease_stream, provision_with
from mignet_runtime.settings import Settings

from secured_nats import NatsUrl

pytestmark = pytest.mark.integration


@pytest.fixture
def bare_nats(tmp_path):
    """nats.conf, not provisioned yet."""
    passwords = dev_passwords()
    proc, plain = start_secured_nats(tmp_path / "nats", passwords, log_path=tmp_path / "nats.log")
    yield NatsUrl(plain, passwords)
    proc.stop(5)


def _admin(url: NatsUrl, **overrides) -> Settings:
    return Settings(**url.credentials("admin"), **overrides)


async def _js(url: NatsUrl):
    nc = await nats.connect(url)
    return nc, nc.jetstream()


async def test_creates_every_stream_and_lease_bucket_then_changes_nothing(bare_nats):
    steps = await provision_with(_admin(bare_nats, lease_seconds=7))
    assert [(s.target, s.outcome) for s in steps] == [
        ("stream REGISTRY", "created"),
        ("lease bucket leases_registry (stream KV_leases_registry)", "created"),
        ("key bucket keys_registry (stream KV_keys_registry)", "created"),
        ("stream REVIEWS", "created"),
        ("lease bucket leases_reviews (stream KV_leases_reviews)", "created"),
        ("key bucket keys_reviews (stream KV_keys_reviews)", "created"),
        ("stream NOTIFIER", "created"),
        ("lease bucket leases_notifier (stream KV_leases_notifier)", "created"),
        ("key bucket keys_notifier (stream KV_keys_notifier)", "created"),
        ("stream PUBLIC (account FEED)", "created"),
    ]
    nc, js = await _js(bare_nats)
    try:
        registry = (await js.stream_info("REGISTRY")).config
        assert registry.subjects == ["registry.events.>"] and registry.max_age == 0
        assert registry.deny_delete and registry.deny_purge and registry.allow_direct and registry.allow_atomic
        assert registry.duplicate_window == 6 * 3600
        lease = (await js.stream_info(lease_stream("reviews"))).config
        assert lease.max_age == 7 and lease.max_msgs_per_subject == 1 and lease.storage == "file"
        assert lease.allow_direct and lease.num_replicas == 1
        assert (await (await js.key_value(lease_bucket("reviews"))).status()).history == 1
        # The key bucket: one revision per key, kept for ever, and message deletes allowed (secure erasure).
        keys = (await js.stream_info("KV_keys_reviews")).config
        assert keys.max_msgs_per_subject == 1 and keys.max_age == 0 and keys.storage == "file"
        assert not keys.deny_delete and keys.allow_rollup_hdrs and keys.allow_direct
        assert (await (await js.key_value("keys_reviews")).status()).history == 1
    finally:
        await nc.close()
    again = await provision_with(_admin(bare_nats, lease_seconds=7))
    assert {s.outcome for s in again} == {"unchanged"}


async def test_repairs_limits_a_service_user_could_once_shorten(bare_nats):
    """Issue 6.3: REGISTRY emptied by max_age = 1s; provisioning restores the limits (and says so)."""
    await provision_with(_admin(bare_nats))
    nc, js = await _js(bare_nats)
    try:
        config = (await js.stream_info("REGISTRY")).config
        # (Deny delete/purge cannot be switched off again: the server refuses that update itself.)
        await js.update_stream(config.evolve(max_age=604800.0, max_msgs=1000, duplicate_window=60.0))
        lease = (await js.stream_info(lease_stream("registry"))).config
        await js.update_stream(lease.evolve(max_age=300.0, duplicate_window=120.0))

        steps = await provision_with(_admin(bare_nats))
        by_target = {s.target: s for s in steps}
        fixed = by_target["stream REGISTRY"]
        assert fixed.outcome == "updated"
        assert "max_age 604800.0 -> 0.0" in fixed.detail and "max_msgs 1000 -> -1" in fixed.detail
        assert "duplicate_window 60.0 -> 21600.0" in fixed.detail
        assert by_target["lease bucket leases_registry (stream KV_leases_registry)"].outcome == "updated"
        assert by_target["stream REVIEWS"].outcome == "unchanged"

        after = (await js.stream_info("REGISTRY")).config
        assert (after.max_age, after.max_msgs, after.duplicate_window) == (0, -1, 21600)
        assert (await js.stream_info(lease_stream("registry"))).config.max_age == 10
    finally:
        await nc.close()


async def test_refuses_to_change_subjects_or_storage_and_says_so(bare_nats):
    nc, js = await _js(bare_nats)
    try:
        wrong = expected_stream_config("registry").evolve(subjects=["registry.events.>", "registry.other.>"])
        await js.add_stream(wrong)
        with pytest.raises(ProvisioningRefused) as refused:
            await provision_with(_admin(bare_nats))
        by_target = {s.target: s for s in refused.value.steps}
        assert by_target["stream REGISTRY"].outcome == "refused"
        assert "subjects" in by_target["stream REGISTRY"].detail
        assert by_target["stream REVIEWS"].outcome == "created"  # the rest is still done
        assert (await js.stream_info("REGISTRY")).config.subjects == ["registry.events.>", "registry.other.>"]
    finally:
        await nc.close()


async def test_refuses_a_key_bucket_whose_erased_keys_would_stay_on_disk(bare_nats):
    """A plain KV bucket (deny_delete on) cannot overwrite an erased key: an operator must move the keys."""
    nc, js = await _js(bare_nats)
    try:
        await js.create_key_value(bucket="keys_reviews", history=1)
        with pytest.raises(ProvisioningRefused) as refused:
            await provision_with(_admin(bare_nats))
        by_target = {s.target: s for s in refused.value.steps}
        step = by_target["key bucket keys_reviews (stream KV_keys_reviews)"]
        assert step.outcome == "refused" and "deny_delete True -> False" in step.detail
        assert by_target["key bucket keys_registry (stream KV_keys_registry)"].outcome == "created"
    finally:
        await nc.close()


async def _mignet(env: dict[str, str], *args: str):
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "200", **env})


async def test_cli_provisions_as_admin_and_explains_a_refusal_to_others(bare_nats):
    as_operator = await _mignet({**bare_nats.env_for("operator")}, "admin", "provision")
    assert as_operator.exit_code == 3, as_operator.output
    assert "is this the NATS admin user" in as_operator.stderr and "Traceback" not in as_operator.output

    as_admin = await _mignet(bare_nats.env_for("admin"), "admin", "provision")
    assert as_admin.exit_code == 0, as_admin.output
    assert "created stream REGISTRY" in " ".join(as_admin.stdout.split())
    again = await _mignet(bare_nats.env_for("admin"), "admin", "provision")
    assert again.exit_code == 0 and again.stdout.count("unchanged") == 10

    wrong = await _mignet({**bare_nats.env_for("admin"), "NATS_PASSWORD": "pwrong"}, "admin", "provision")
    assert wrong.exit_code == 3 and "authorization violation" in wrong.stderr.lower()
    assert "pwrong" not in wrong.output


async def test_more_replicas_than_one_server_can_hold_is_refused_and_changes_nothing(bare_nats):
    await provision_with(_admin(bare_nats))
    with pytest.raises(ProvisioningRefused) as refused:
        await provision_with(_admin(bare_nats, stream_replicas=3))
    [step] = refused.value.steps
    assert step.outcome == "refused" and "not part of a cluster" in step.detail
    nc, js = await _js(bare_nats)
    try:
        assert (await js.stream_info("REGISTRY")).config.num_replicas == 1
    finally:
        await nc.close()


async def test_public_feed_gains_new_public_subjects_but_never_silently_loses_one(bare_nats):
    """Stream PUBLIC (account FEED) is provisioned through the admin's $JS.FEED.API import.

    A new public event type arrives as one more source, filtered on it alone: the events
    PUBLIC already holds are not copied a second time."""
    from datetime import date

    from nats.js.api import SubjectTransform

    from mignet_contracts import registry as rg
    from mignet_runtime.codec import EventCodec, Metadata
    from mignet_runtime.public_feed import FEED_API_PREFIX, expected_public_stream_config

    await provision_with(_admin(bare_nats))
    nc = await nats.connect(bare_nats)
    feed = nc.jetstream(prefix=FEED_API_PREFIX)
    codec = EventCodec(rg.REGISTRY_EVENTS)

    async def publish(event) -> None:
        headers, data = codec.encode(event, Metadata(command_id=f"c-{event.aggregate_id}-{event.name}", actor="t"))
        await nc.jetstream().publish(event.subject, data, headers=headers)

    async def public_count(expected: int) -> int:
        for _ in range(200):
            if (await feed.stream_info("PUBLIC")).state.messages >= expected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # and nothing more comes
        return (await feed.stream_info("PUBLIC")).state.messages

    on = date(2024, 1, 1)
    try:
        expected = expected_public_stream_config()
        assert expected.sources[0].subject_transforms[0].src == "registry.events.network.*.created"
        fewer = [s for s in expected.sources]
        fewer[0] = fewer[0].evolve(subject_transforms=fewer[0].subject_transforms[1:])
        await feed.delete_stream("PUBLIC")
        await feed.add_stream(expected.evolve(sources=fewer))  # as if 'created' had become public only now
        await publish(
            rg.NetworkCreated(
                network_id="nat-bd",
                scope="national",
                country="BD",
                network_name="Bangladesh",
                status="established",
                occurred_on=on,
            )
        )
        await publish(
            rg.NetworkRenamed(
                network_id="nat-bd", from_name="Bangladesh", network_name="Bangladesh network", occurred_on=on
            )
        )
        await publish(rg.ChampionWithdrawn(country="BD", reason="r", occurred_on=on))
        assert await public_count(2) == 2  # renamed and withdrawn; not created

        by_target = {s.target: s for s in await provision_with(_admin(bare_nats))}
        step = by_target["stream PUBLIC (account FEED)"]
        assert step.outcome == "updated" and "registry.events.network.*.created" in step.detail
        assert await public_count(3) == 3  # created copied once; renamed and withdrawn not again
        again = {s.target: s for s in await provision_with(_admin(bare_nats))}
        assert again["stream PUBLIC (account FEED)"].outcome == "unchanged"

        more = list((await feed.stream_info("PUBLIC")).config.sources)
        extra = SubjectTransform(src="registry.events.network.*.focal-point-assigned", dest="")
        more[0] = more[0].evolve(subject_transforms=[*more[0].subject_transforms, extra])
        await feed.update_stream((await feed.stream_info("PUBLIC")).config.evolve(sources=more))
        with pytest.raises(ProvisioningRefused) as refused:
            await provision_with(_admin(bare_nats))
        step = {s.target: s for s in refused.value.steps}["stream PUBLIC (account FEED)"]
        assert (
            step.outcome == "refused"
            and "focal-point-assigned" in step.detail
            and "delete stream PUBLIC" in step.detail
        )
    finally:
        await nc.close()


async def test_a_plain_server_without_the_feed_account_is_provisioned_without_a_public_feed(tmp_path):
    """`nats-server -js` (the benchmarks, a developer's own server): the services' streams, and a warning."""
    from mignet_runtime.localstack import start_nats

    proc, url = start_nats(tmp_path / "plain", log_path=tmp_path / "plain.log")
    try:
        steps = await provision_with(Settings(nats_url=url))
        public = [s for s in steps if s.target.startswith("stream PUBLIC")]
        assert [s.outcome for s in public] == ["skipped"] and "nats.conf defines it" in public[0].detail
        assert ("stream REGISTRY", "created") in [(s.target, s.outcome) for s in steps]
    finally:
        proc.stop(5)
