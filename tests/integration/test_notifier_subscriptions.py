"""Subscriptions end to end: commands over NATS, events in NOTIFIER, the read model, refusals."""

from __future__ import annotations

import pytest
from conftest import RunningService, eventually
from notifier_support import command, ids, spec

from mignet_contracts import notifier as c
from mignet_runtime.client import RequestFailed

NETWORK_CREATED = "int.un-migration.mignet.registry.network.created.v1"
CONTRIBUTIONS = "int.un-migration.mignet.reviews.contribution.*"


@pytest.fixture
async def notifier(fresh_nats, settings_for):
    async with RunningService(spec(), settings_for(fresh_nats)) as service:
        yield service


@pytest.fixture
async def strict_notifier(fresh_nats, settings_for):
    """No private address allowed, as in production."""
    async with RunningService(spec(allow_private=()), settings_for(fresh_nats)) as service:
        yield service


def webhook(url: str = "https://hooks.example.org/mignet", **fields) -> c.CreateSubscription:
    values = {"title": "Integrator", "channel": "webhook", "url": url, "event_types": [NETWORK_CREATED], **fields}
    return c.CreateSubscription(**ids(), **values)


async def status_of(service, subscription_id: str, status: str) -> dict:
    async def probe():
        doc = await service.client.query(c.GetSubscription(subscription_id=subscription_id))
        return doc if doc["status"] == status else None

    return await eventually(probe)


async def test_a_webhook_subscription_lives_through_its_lifecycle(notifier, receiver_url="http://127.0.0.1:9/x"):
    created = await command(notifier.client, webhook(receiver_url, filters={"region": "asia-pacific"}))
    sid = created["aggregate_id"]
    assert sid.startswith("s-") and created["secret"].startswith("whsec_")
    doc = await status_of(notifier, sid, "active")
    assert doc["url"] == receiver_url and doc["filters"] == {"region": "asia-pacific"}
    assert doc["secret_version"] == 1 and "secret" not in doc

    await command(notifier.client, c.PauseSubscription(**ids(), subscription_id=sid, reason="maintenance"))
    assert (await status_of(notifier, sid, "paused"))["status_reason"] == "maintenance"
    await command(notifier.client, c.ResumeSubscription(**ids(), subscription_id=sid))
    await status_of(notifier, sid, "active")

    await command(
        notifier.client,
        c.UpdateSubscriptionFilters(**ids(), subscription_id=sid, event_types=[CONTRIBUTIONS], filters={}),
    )

    async def updated():
        doc = await notifier.client.query(c.GetSubscription(subscription_id=sid))
        return doc["event_types"] == [CONTRIBUTIONS] and doc["filters"] == {}

    await eventually(updated)

    rotated = await command(notifier.client, c.RotateSubscriptionSecret(**ids(), subscription_id=sid))
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]

    await command(notifier.client, c.DeleteSubscription(**ids(), subscription_id=sid))
    await status_of(notifier, sid, "deleted")
    listed = await notifier.client.query(c.ListSubscriptions())
    assert sid not in [s["subscription_id"] for s in listed["items"]]
    with pytest.raises(RequestFailed) as refused:
        await command(notifier.client, c.ResumeSubscription(**ids(), subscription_id=sid))
    assert refused.value.error.code == "not_found"


async def test_resending_create_replays_and_shows_the_same_secret(notifier):
    cmd = webhook("http://127.0.0.1:9/x")
    first, again = await command(notifier.client, cmd), await command(notifier.client, cmd)
    assert again["replayed"] and again["secret"] == first["secret"]
    assert again["aggregate_id"] == first["aggregate_id"]


async def test_an_internal_email_subscription_may_have_events_that_are_not_public(notifier):
    created = await command(
        notifier.client,
        c.CreateSubscription(
            **ids(),
            title="Asia-Pacific focal point",
            channel="email",
            email="focal.point@example.org",
            internal=True,
            event_types=["int.un-migration.mignet.reviews.contribution.submitted.v1"],
            filters={"region": "asia-pacific"},
        ),
    )
    assert "secret" not in created
    doc = await status_of(notifier, created["aggregate_id"], "active")
    assert doc["internal"] is True and doc["channel"] == "email"


async def _refused(service, payload: dict) -> dict:
    """Sent as raw JSON, as an integrator's client would: the service validates it, not our model."""
    before = await service.runtime.store.last_seq()
    reply = await service.client.request("notifier.commands.create-subscription", {**ids(), "title": "t", **payload})
    assert not reply.ok and reply.error is not None
    assert await service.runtime.store.last_seq() == before  # nothing written
    return reply.error.model_dump()


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        (
            {"channel": "webhook", "url": "https://a.example.org/h", "event_types": ["int.example.nothing.v1"]},
            "event_types",
            "unknown event type",
        ),
        (
            {"channel": "email", "email": "not-an-address", "event_types": [NETWORK_CREATED]},
            "email",
            "not an e-mail address",
        ),
        (
            {"channel": "webhook", "url": "ftp://a.example.org/h", "event_types": [NETWORK_CREATED]},
            "url",
            "must be https",
        ),
        (
            {
                "channel": "webhook",
                "url": "https://a.example.org/h",
                "event_types": [NETWORK_CREATED],
                "filters": {"region": "atlantis"},
            },
            "filters.region",
            "",
        ),
        (
            {
                "channel": "webhook",
                "url": "https://a.example.org/h",
                "event_types": ["int.un-migration.mignet.reviews.contribution.submitted.v1"],
            },
            "",
            "not public",
        ),
        (
            {
                "channel": "webhook",
                "url": "https://a.example.org/h",
                "internal": True,
                "event_types": [NETWORK_CREATED],
            },
            "",
            "e-mail only",
        ),
    ],
    ids=["unknown-type", "bad-email", "not-http", "unknown-region", "private-type-external", "internal-webhook"],
)
async def test_bad_input_is_a_validation_error_and_writes_nothing(notifier, payload, field, words):
    error = await _refused(notifier, payload)
    assert error["code"] == "validation_error"
    text = error["message"] + " ".join(d["message"] + " " + (d["field"] or "") for d in error["details"])
    assert words in text and field in text


async def test_updating_an_external_subscription_to_a_private_type_is_refused(notifier):
    sid = (await command(notifier.client, webhook("http://127.0.0.1:9/x")))["aggregate_id"]
    with pytest.raises(RequestFailed) as refused:
        await command(
            notifier.client,
            c.UpdateSubscriptionFilters(
                **ids(), subscription_id=sid, event_types=["int.un-migration.mignet.reviews.contribution.rejected.v1"]
            ),
        )
    assert refused.value.error.code == "validation_error" and "not public" in refused.value.error.message


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("https://127.0.0.1/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://localhost/hook", "loopback"),  # a name that resolves to a private address
        ("https://10.1.2.3/hook", "private"),
        ("https://100.64.0.1/hook", "CGNAT"),
        ("https://[::1]/hook", "loopback"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
async def test_ssrf_guard_refuses_private_addresses_without_the_allowance(strict_notifier, url, words):
    error = await _refused(strict_notifier, {"channel": "webhook", "url": url, "event_types": [NETWORK_CREATED]})
    assert error["code"] == "validation_error" and words in error["message"], error
