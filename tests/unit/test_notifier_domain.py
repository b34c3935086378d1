"""The notifier's pure parts: the subscription decider, matching, signing, the retry schedule, the SSRF rules."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from mignet_contracts import notifier as c
from mignet_notifier import domain, signing
from mignet_notifier.config import ConfigError, NotifierConfig
from mignet_notifier.deliveries import next_delay
from mignet_notifier.domain.matching import delivery_id, facets, matches
from mignet_notifier.domain.subscription import (
    create_subscription,
    pause_subscription,
    resume_subscription,
    rotate_secret,
    update_filters,
)
from mignet_notifier.ssrf import _why_blocked
from mignet_notifier.webhook import retry_after_seconds
from mignet_runtime.errors import NotFound, Rejected, ValidationFailed

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
TYPE = "int.un-migration.mignet.registry.network.created.v1"
SUBMITTED = "int.un-migration.mignet.reviews.contribution.submitted.v1"


def create(**fields) -> c.CreateSubscription:
    values = {"title": "t", "channel": "webhook", "url": "https://h.example.org/x", "event_types": [TYPE], **fields}
    return c.CreateSubscription(command_id="cmd-1", actor="test", **values)


def fold(*commands):
    state = domain.initial_subscription(create().subscription_id)
    for cmd, extra in commands:
        decide = domain.DECIDERS[type(cmd)][1]
        for event in decide(state, cmd, TODAY, **extra):
            state = domain.evolve_subscription(state, event)
    return state


def on(model, **fields):
    return model(command_id="c", actor="test", subscription_id=create().subscription_id, **fields)


def test_a_subscription_is_created_active_with_a_first_secret_version():
    state = fold((create(), {}))
    assert state.status is c.SubscriptionStatus.ACTIVE and state.secret_version == 1
    email = fold((create(channel="email", url=None, email="a@example.org"), {}))
    assert email.secret_version == 0


def test_erasing_an_address_deletes_the_subscription_and_cannot_happen_twice():
    keys = {"data_keys": ["subscription.s-1.cmd-1"]}
    email = create(channel="email", url=None, email="a@example.org")
    state = fold((email, {}), (on(c.PauseSubscription), {}), (on(c.ErasePersonalData, requested_by="t-1"), keys))
    assert state.status is c.SubscriptionStatus.DELETED and state.email == "(erased)"
    with pytest.raises(Rejected, match="holds no personal data"):
        domain.erase_personal_data(state, on(c.ErasePersonalData, requested_by="t-2"), TODAY, data_keys=[])
    with pytest.raises(NotFound):
        resume_subscription(state, on(c.ResumeSubscription), TODAY)
    # A deleted subscription's address is still erasable; one that never existed is not found.
    deleted = fold((email, {}), (on(c.DeleteSubscription), {}))
    [erased] = domain.erase_personal_data(deleted, on(c.ErasePersonalData, requested_by="t-3"), TODAY, **keys)
    assert erased.key_ids == keys["data_keys"] and erased.requested_by == "t-3"
    with pytest.raises(NotFound):
        domain.erase_personal_data(
            domain.initial_subscription("s-0000000000000000"), on(c.ErasePersonalData, requested_by="t"), TODAY, **keys
        )


def test_pause_and_resume_follow_the_lifecycle():
    state = fold((create(), {}), (on(c.PauseSubscription), {}))
    assert state.status is c.SubscriptionStatus.PAUSED
    with pytest.raises(Rejected):
        pause_subscription(state, on(c.PauseSubscription), TODAY)
    state = fold((create(), {}), (on(c.PauseSubscription), {}), (on(c.ResumeSubscription), {}))
    with pytest.raises(Rejected, match="already active"):
        resume_subscription(state, on(c.ResumeSubscription), TODAY)


def test_deleted_or_unknown_subscriptions_are_not_found():
    deleted = fold((create(), {}), (on(c.DeleteSubscription), {}))
    with pytest.raises(NotFound):
        resume_subscription(deleted, on(c.ResumeSubscription), TODAY)
    with pytest.raises(NotFound):
        pause_subscription(domain.initial_subscription("s-0000000000000000"), on(c.PauseSubscription), TODAY)
    with pytest.raises(Rejected, match="already exists"):
        create_subscription(fold((create(), {})), create(), TODAY)


def test_rotation_bumps_the_version_and_keeps_the_previous_secret_for_the_overlap():
    state = fold((create(), {}), (on(c.RotateSubscriptionSecret, overlap_hours=2), {"now": NOW}))
    assert state.secret_version == 2 and state.previous_valid_until == NOW + timedelta(hours=2)
    email = fold((create(channel="email", url=None, email="a@example.org"), {}))
    with pytest.raises(Rejected, match="no signing secret"):
        rotate_secret(email, on(c.RotateSubscriptionSecret), TODAY, NOW)


def test_an_external_subscription_cannot_take_a_private_type_by_update():
    with pytest.raises(ValidationFailed, match="not public"):
        update_filters(fold((create(), {})), on(c.UpdateSubscriptionFilters, event_types=[SUBMITTED]), TODAY)


@pytest.mark.parametrize(
    "fields",
    [
        {"event_types": []},
        {"event_types": ["int.un-migration.mignet.registry.nothing.*"]},
        {"event_types": ["int.un-migration.mignet.registry.network.focal-point-assigned.v1"]},  # personal data
        {"url": "https://user:pw@h.example.org/x"},
        {"url": None},
        {"channel": "email", "url": None, "email": "a@b"},
        {"internal": True},
        {"filters": {"country": "XX"}},
        {"filters": {"review_id": "atlantis-2024-2025"}},
    ],
)
def test_malformed_subscriptions_are_refused_by_the_contract(fields):
    with pytest.raises(ValidationError):
        create(**fields)


def test_wildcards_name_the_types_under_a_prefix():
    assert TYPE in c.types_matching("int.un-migration.mignet.registry.network.*")
    assert c.types_matching("int.un-migration.mignet.*") == sorted(c.SUBSCRIBABLE)


def subscription(**fields) -> dict:
    values = {
        "status": "active",
        "created_at": NOW - timedelta(hours=1),
        "event_types": ["int.un-migration.mignet.reviews.contribution.*"],
        "filters": {},
        "internal": False,
    }
    return {**values, **fields}


def test_matching_honours_status_time_type_filters_and_visibility():
    facts = {"region": "asia-pacific", "review_id": "asia-pacific-2024-2025"}
    published = "int.un-migration.mignet.reviews.contribution.published.v1"
    assert matches(subscription(), published, True, {}, NOW)
    assert not matches(subscription(status="paused"), published, True, {}, NOW)
    assert not matches(subscription(created_at=NOW + timedelta(seconds=1)), published, True, {}, NOW)
    assert not matches(subscription(event_types=[TYPE]), published, True, {}, NOW)
    assert matches(subscription(filters={"region": "asia-pacific"}), SUBMITTED, True, facts, NOW)
    assert not matches(subscription(filters={"region": "africa"}), SUBMITTED, True, facts, NOW)
    assert not matches(subscription(filters={"region": "asia-pacific"}), published, True, {}, NOW)  # no region
    assert not matches(subscription(), SUBMITTED, False, facts, NOW)  # not public: external never
    assert matches(subscription(internal=True), SUBMITTED, False, facts, NOW)


def test_facets_derive_the_region_from_a_review_id():
    from mignet_contracts.reviews import ReviewOpenedForContributions

    event = ReviewOpenedForContributions(review_id="arab-region-2024-2025", occurred_on=TODAY)
    assert facets(event) == {"review_id": "arab-region-2024-2025", "region": "arab-region"}


def test_delivery_ids_are_stable_per_pair():
    assert delivery_id("e1", "s-1") == delivery_id("e1", "s-1") != delivery_id("e1", "s-2")
    assert c.DeliveryStatus  # the id fits the contract's pattern
    c.RetryDeliveries(command_id="c", actor="a", delivery_id=delivery_id("e1", "s-1"))


def test_signatures_verify_with_the_standardwebhooks_library_and_both_secrets_during_an_overlap():
    key = b"k" * 32
    sub = {"subscription_id": "s-1", "secret_version": 2, "previous_valid_until": NOW + timedelta(hours=1)}
    secrets = signing.signing_secrets(key, sub, NOW)
    assert secrets == [signing.secret_for(key, "s-1", 2), signing.secret_for(key, "s-1", 1)]
    assert signing.signing_secrets(key, sub, NOW + timedelta(hours=2)) == secrets[:1]
    stamp = datetime.now(UTC)
    headers = signing.headers(secrets, "d-1", stamp, b'{"a":1}')
    for secret in secrets:
        assert Webhook(secret).verify(b'{"a":1}', headers) == {"a": 1}


def test_the_schedule_then_parking_and_retry_after():
    schedule = (5.0, 300.0)
    assert next_delay(1, schedule, 0.0, None) == 5.0
    assert 240 <= next_delay(2, schedule, 0.2, None) <= 360
    assert next_delay(3, schedule, 0.2, None) is None
    assert next_delay(1, schedule, 0.2, 42.0) == 42.0
    assert retry_after_seconds("120", NOW) == 120
    assert retry_after_seconds("Mon, 07 Dec 2026 12:01:00 GMT", NOW) == 60
    assert retry_after_seconds("soon", NOW) is None


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("93.184.215.14", None),
    ],
)
def test_addresses_the_guard_blocks(address, why):
    assert _why_blocked(ipaddress.ip_address(address)) == why


def test_the_config_needs_a_key_and_reads_its_lists():
    with pytest.raises(ConfigError, match="MIGNET_NOTIFIER_SECRET_KEY"):
        NotifierConfig.from_env({})
    config = NotifierConfig.from_env(
        {
            "MIGNET_NOTIFIER_SECRET_KEY": "x" * 16,
            "MIGNET_NOTIFIER_ALLOW_PRIVATE": "127.0.0.1, 10.0.0.0/8",
            "MIGNET_NOTIFIER_RETRY_SCHEDULE": "1,2.5",
            "MIGNET_NOTIFIER_TIMEOUT": "3",
        }
    )
    assert config.retry_schedule == (1.0, 2.5) and config.request_timeout == 3.0
    assert ipaddress.ip_address("10.1.2.3") in config.allow_private[1]
    with pytest.raises(ConfigError, match="ALLOW_PRIVATE"):
        NotifierConfig.from_env({"MIGNET_NOTIFIER_SECRET_KEY": "x" * 16, "MIGNET_NOTIFIER_ALLOW_PRIVATE": "nope"})


def test_every_subscribable_event_type_renders_a_one_line_subject_and_both_bodies():
    from mignet_notifier.mail import render

    for event_type in c.SUBSCRIBABLE:
        data = {"title": "A\nB <i>", "network_name": "N", "country": "BD", "review_id": "africa-2024-2025"}
        delivery = {
            "cloud_event": {
                "type": event_type,
                "subject": "x-1",
                "id": "e1",
                "time": "2026-12-07T00:00:00Z",
                "data": data,
            }
        }
        subject, text, html = render(delivery, {"title": "t <b>", "subscription_id": "s-1"})
        assert "\n" not in subject and subject.startswith("[mignet] ")
        assert "t <b>" in text and "t &lt;b&gt;" in html and "<b>" not in html.replace("<body", "")
