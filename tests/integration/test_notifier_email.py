"""The reviews' events through the notifier: e-mail via a real in-process SMTP server (aiosmtpd), with subject,
both bodies and escaping; and what an external webhook may receive of them."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json

import nats
import pytest
from aiosmtpd.smtp import SMTP
from conftest import RunningService, eventually
from notifier_support import command, ids, spec

from mignet_contracts import notifier as c
from mignet_contracts import reviews as rv
from mignet_reviews.domain import CONTRIBUTION
from mignet_runtime.codec import EventCodec, Metadata
from mignet_runtime.eventstore import EventStore
from mignet_runtime.keystore import open_key_ring

SUBMITTED = rv.ContributionSubmitted.ce_type()
TITLE = 'Pathways <script>alert("x")</script> & more'


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
async def smtp():
    inbox = Inbox()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    inbox.url = f"smtp://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield inbox
    server.close()
    await server.wait_closed()


@pytest.fixture
async def reviews_store(fresh_nats):
    nc = await nats.connect(
        fresh_nats.plain, user="reviews", password=fresh_nats.passwords["reviews"], inbox_prefix="_INBOX_reviews"
    )
    store = EventStore(nc, rv.SERVICE, EventCodec(rv.REVIEWS_EVENTS))
    # As the reviews service writes: its personal fields sealed with its own keys (docs/privacy.md).
    store.keys = await open_key_ring(nc, rv.SERVICE, rv.REVIEWS_EVENTS)
    yield store
    await nc.drain()


async def submit(store: EventStore, review_id: str, region: str, title: str) -> str:
    command_id = ids()["command_id"]
    cid = rv.contribution_id(command_id)
    submitted = rv.ContributionSubmitted(
        contribution_id=cid,
        review_id=review_id,
        region=region,
        cycle="2024-2025",
        contributor={"kind": "member-state", "country": "BD"},
        level="national",
        title=title,
        summary="Line one\nLine <b>two</b>",
        objectives=[5],
        language="en",
        occurred_on="2026-12-01",
    )
    contact = rv.ContributionContactRecorded(
        contribution_id=cid,
        contact={"name": "Private Person", "email": "private.person@example.org"},
        occurred_on="2026-12-01",
    )
    await store.append(CONTRIBUTION, cid, [submitted, contact], 0, Metadata(command_id=command_id, actor="test"))
    return cid


async def test_a_submitted_contribution_emails_the_regions_focal_point(fresh_nats, settings_for, smtp, reviews_store):
    async with RunningService(spec(smtp_url=smtp.url), settings_for(fresh_nats)) as notifier:
        created = await command(
            notifier.client,
            c.CreateSubscription(
                **ids(),
                title="Asia-Pacific focal point",
                channel="email",
                email="focal.point@example.org",
                internal=True,
                event_types=["int.un-migration.mignet.reviews.contribution.*"],
                filters={"region": "asia-pacific"},
            ),
        )
        sid = created["aggregate_id"]

        async def active():
            return (await notifier.client.query(c.GetSubscription(subscription_id=sid)))["status"] == "active"

        await eventually(active)
        await submit(reviews_store, "africa-2024-2025", "africa", "Elsewhere")  # another region: no mail
        cid = await submit(reviews_store, "asia-pacific-2024-2025", "asia-pacific", TITLE)

        async def delivered():
            found = await notifier.client.query(c.ListDeliveries(subscription_id=sid, status="delivered"))
            return found["items"]

        [delivery] = await eventually(delivered, timeout=15)
        outbox = await notifier.db["outbox_reviews"].find({}, {"type": 1}).to_list(None)
    assert len(smtp.messages) == 1 and smtp.recipients == [["focal.point@example.org"]]
    [message] = smtp.messages
    assert message["Subject"] == f"[mignet] New contribution to asia-pacific-2024-2025 awaits moderation: {TITLE}"
    assert message["Message-ID"] == f"<{delivery['delivery_id']}@notifier.mignet>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert TITLE in text and cid in text
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert "Line &lt;b&gt;two&lt;/b&gt;" in html
    # The contact recorded with the submission is neither mailed nor kept by the notifier.
    assert "private.person" not in message.as_string()
    assert {doc["type"] for doc in outbox} == {SUBMITTED}


async def _staff_subscription(notifier) -> str:
    """An internal e-mail subscription to submitted contributions, active; its id."""
    created = await command(
        notifier.client,
        c.CreateSubscription(
            **ids(), title="fp", channel="email", email="fp@example.org", internal=True, event_types=[SUBMITTED]
        ),
    )
    sid = created["aggregate_id"]

    async def active():
        return (await notifier.client.query(c.GetSubscription(subscription_id=sid)))["status"] == "active"

    await eventually(active)
    return sid


async def test_an_unreachable_smtp_server_retries_then_parks(fresh_nats, settings_for, reviews_store):
    async with RunningService(spec(smtp_url="smtp://127.0.0.1:1"), settings_for(fresh_nats)) as notifier:
        sid = await _staff_subscription(notifier)
        await submit(reviews_store, "asia-pacific-2024-2025", "asia-pacific", "t")

        async def parked():
            found = await notifier.client.query(c.ListDeliveries(subscription_id=sid, status="parked"))
            return found["items"]

        [delivery] = await eventually(parked, timeout=15)
    assert delivery["attempts"] == 3 and delivery["channel"] == "email"


async def test_a_webhook_never_gets_an_event_that_is_not_public(fresh_nats, settings_for, reviews_store):
    """An external subscription's wildcard covers submitted (not public) and published: only published goes."""
    from notifier_support import Receiver

    async with (
        Receiver() as receiver,
        RunningService(spec(), settings_for(fresh_nats)) as notifier,
    ):
        created = await command(
            notifier.client,
            c.CreateSubscription(
                **ids(),
                title="integrator",
                channel="webhook",
                url=receiver.url(),
                event_types=["int.un-migration.mignet.reviews.contribution.*"],
            ),
        )
        sid = created["aggregate_id"]

        async def active():
            return (await notifier.client.query(c.GetSubscription(subscription_id=sid)))["status"] == "active"

        await eventually(active)
        cid = await submit(reviews_store, "asia-pacific-2024-2025", "asia-pacific", "t")
        published = rv.ContributionPublished(contribution_id=cid, occurred_on="2026-12-02")
        await reviews_store.append(
            CONTRIBUTION, cid, [published], 2, Metadata(command_id=ids()["command_id"], actor="t")
        )

        async def delivered():
            found = await notifier.client.query(c.ListDeliveries(subscription_id=sid))
            return found["items"] if found["total"] and found["items"][0]["status"] == "delivered" else None

        [delivery] = await eventually(delivered, timeout=15)
    assert delivery["event_type"] == rv.ContributionPublished.ce_type()
    assert [json.loads(r.body)["type"] for r in receiver.requests] == [rv.ContributionPublished.ce_type()]


async def test_an_address_not_readable_yet_is_retried_not_cancelled(fresh_nats, settings_for, smtp, reviews_store):
    """On a cluster a key just created may not be readable from the node that answers (its follower lags): with no
    erasure recorded, that is a failed attempt to retry, never a cancelled delivery."""
    from mignet_notifier.domain import SUBSCRIPTION
    from mignet_runtime.keystore import keys_bucket

    settings = settings_for(fresh_nats)
    notifier_spec = spec(smtp_url=smtp.url, retry_schedule=(60.0,))
    async with RunningService(notifier_spec, settings) as notifier:
        sid = await _staff_subscription(notifier)
        key_ids = await notifier.runtime.store.keys.keys_of(SUBSCRIPTION.name, sid)
    assert key_ids, "the subscription's address is sealed with a key of its own"
    # The key out of the bucket, no erasure recorded: what a lagging node answers for a key just created.
    admin = await nats.connect(fresh_nats)
    kv = await admin.jetstream().key_value(keys_bucket("notifier"))
    for key_id in key_ids:
        await kv.purge(f"dk.{key_id}")
    await admin.drain()
    async with RunningService(notifier_spec, settings) as notifier:  # a process that never held the key
        await submit(reviews_store, "asia-pacific-2024-2025", "asia-pacific", "Unreadable for now")

        async def attempted():
            # Its outcome recorded: a new delivery is inserted already claimed (delivering, attempt 1).
            found = await notifier.client.query(c.ListDeliveries(subscription_id=sid))
            items = found["items"]
            return items if items and items[0]["attempts"] >= 1 and items[0]["status"] != "delivering" else None

        [delivery] = await eventually(attempted, timeout=15)
    assert delivery["status"] == "pending" and "could not be read yet" in delivery["last_error"], delivery
    assert smtp.messages == []
