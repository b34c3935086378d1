"""How the notifier copes with receivers, against real HTTP receivers on loopback: a paused subscription's
deliveries wait and go on resume, a huge answer is read only up to the cap, ``Retry-After`` (503 and 429,
seconds and HTTP date) is honoured and bounded, and a body over the cap is never sent.

The receiver stamps each request's arrival on the event loop's clock, so waits between
attempts are measured to the millisecond (``webhook-timestamp`` has whole seconds only).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from conftest import RunningService, eventually
from notifier_support import Receiver, command, config, ids, registry_writer, spec
from test_notifier_webhooks import create_network, deliveries_of, subscribe

from mignet_contracts import notifier as c
from mignet_notifier.attempts import HOLD_SECONDS
from mignet_notifier.webhook import MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, WebhookSender

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry_store(fresh_nats):
    async with registry_writer(fresh_nats) as store:
        yield store


def _soon(read):
    """A probe for ``eventually`` of something the test process itself holds (the receiver's records)."""

    async def probe():
        return read()

    return probe


async def _status(service, sid: str) -> str:
    return (await service.client.query(c.GetSubscription(subscription_id=sid)))["status"]


async def test_deliveries_held_while_paused_go_on_as_soon_as_it_is_resumed(fresh_nats, settings_for, registry_store):
    paused = asyncio.Event()

    async def answer(request, attempt):
        if not paused.is_set():  # fail every attempt made before the pause shows
            await paused.wait()
            return (500, {})
        return (204, {})

    patient = spec(retry_schedule=(0.3,) * 30)  # it must not park while the test pauses it
    async with (
        Receiver(answer) as receiver,
        RunningService(patient, settings_for(fresh_nats)) as notifier,
    ):
        sid = (await subscribe(notifier, receiver.url()))["aggregate_id"]
        await create_network(registry_store, "BD")
        await eventually(_soon(lambda: receiver.requests))  # the first attempt is under way (and will fail)
        await command(notifier.client, c.PauseSubscription(**ids(), subscription_id=sid, reason="maintenance"))
        await eventually(lambda: _is(notifier, sid, "paused"))
        paused.set()
        deliveries = notifier.db["deliveries"]

        async def held():
            return await deliveries.find_one({"subscription_id": sid, "status": "pending", "held": True})

        waiting = await eventually(held)
        assert waiting["next_at"].timestamp() > datetime.now(UTC).timestamp() + HOLD_SECONDS / 2
        sent = len(receiver.requests)
        await asyncio.sleep(1.0)
        assert len(receiver.requests) == sent  # nothing goes while it is paused

        await command(notifier.client, c.ResumeSubscription(**ids(), subscription_id=sid))
        resumed = asyncio.get_running_loop().time()
        # Released on resume, far sooner than the next look at a held delivery (HOLD_SECONDS).
        [delivered] = await deliveries_of(notifier, sid, "delivered", timeout=HOLD_SECONDS / 3)
    assert receiver.requests[-1].at - resumed < HOLD_SECONDS / 3
    assert receiver.succeeded() == {delivered["delivery_id"]: 1}
    # A hold is not an attempt: the count is the attempts the receiver saw.
    assert delivered["attempts"] == len(receiver.requests) and "held" not in delivered


async def _is(service, sid: str, status: str) -> bool:
    return await _status(service, sid) == status


@pytest.fixture
async def notifier(fresh_nats, settings_for):
    async with RunningService(spec(), settings_for(fresh_nats)) as service:
        yield service


async def test_a_huge_answer_is_read_only_up_to_the_cap_and_the_delivery_counts(notifier, registry_store):
    size = 256 * 1024 * 1024  # far more than the socket buffers between the two ends hold
    async with Receiver(lambda request, attempt: (200, {}, size)) as receiver:
        sid = (await subscribe(notifier, receiver.url()))["aggregate_id"]
        await create_network(registry_store, "PH")
        [delivery] = await deliveries_of(notifier, sid, "delivered")
        await eventually(_soon(lambda: receiver.body_bytes_taken))  # the notifier hung up: the writer stopped
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    [taken] = receiver.body_bytes_taken
    # What the kernel buffered is all the receiver could push: a few MB at most, never the whole body.
    assert MAX_RESPONSE_BYTES <= taken < size // 16, taken


@pytest.mark.parametrize(
    ("status", "form"), [(503, "seconds"), (429, "seconds"), (503, "http-date"), (429, "http-date")]
)
async def test_retry_after_is_honoured(notifier, registry_store, status, form):
    wait = 2.0

    def answer(request, attempt):
        if attempt > 1:
            return (204, {})
        if form == "seconds":
            return (status, {"retry-after": f"{wait:g}"})
        # An HTTP date has whole seconds: one a second further makes the wait at least ``wait``.
        when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=wait + 1)
        return (status, {"retry-after": format_datetime(when, usegmt=True)})

    async with Receiver(answer) as receiver:
        sid = (await subscribe(notifier, receiver.url()))["aggregate_id"]
        await create_network(registry_store, "SN")
        [delivery] = await deliveries_of(notifier, sid, "delivered")
    first, second = receiver.requests
    # The schedule alone would have waited 0.3 s.
    assert second.at - first.at >= wait, second.at - first.at
    assert delivery["attempts"] == 2


async def test_a_retry_after_longer_than_the_limit_waits_the_limit(fresh_nats, settings_for, registry_store):
    def answer(request, attempt):
        return (503, {"retry-after": "86400"}) if attempt == 1 else (204, {})

    async with (
        Receiver(answer) as receiver,
        RunningService(spec(max_retry_after=1.0), settings_for(fresh_nats)) as notifier,
    ):
        sid = (await subscribe(notifier, receiver.url()))["aggregate_id"]
        await create_network(registry_store, "KE")
        await deliveries_of(notifier, sid, "delivered")
    first, second = receiver.requests
    assert 1.0 <= second.at - first.at < 10


async def test_a_body_over_the_cap_is_never_sent():
    async with Receiver() as receiver:
        sender = WebhookSender(config())
        try:
            over = await sender.post(receiver.url(), {}, b"x" * (MAX_REQUEST_BYTES + 1))
            at_cap = await sender.post(receiver.url(), {}, b"x" * MAX_REQUEST_BYTES)
        finally:
            await sender.close()
    assert not over.delivered and over.status_code is None and "over the 524288 allowed" in (over.error or "")
    assert at_cap.delivered and [len(r.body) for r in receiver.requests] == [MAX_REQUEST_BYTES]


async def test_metrics_count_deliveries_by_channel_and_outcome(fresh_nats, settings_for, registry_store):
    from test_observability import samples, value

    def answer(request, attempt):
        if request.path == "/gone":
            return (410, {})
        return (500, {}) if attempt == 1 else (204, {})

    settings = settings_for(fresh_nats, metrics_refresh_ms=200)
    async with (
        Receiver(answer) as receiver,
        RunningService(spec(smtp_url="smtp://127.0.0.1:1"), settings) as notifier,
    ):
        ok = (await subscribe(notifier, receiver.url("/ok")))["aggregate_id"]
        gone = (await subscribe(notifier, receiver.url("/gone")))["aggregate_id"]
        mail = (await subscribe(notifier, None, channel="email", email="ops@example.org", internal=True))[
            "aggregate_id"
        ]
        await create_network(registry_store, "BD")
        await deliveries_of(notifier, ok, "delivered")
        await deliveries_of(notifier, gone, "cancelled")
        await deliveries_of(notifier, mail, "parked")

        def attempts(channel: str, outcome: str, m: dict) -> float | None:
            labels = {"service": "notifier", "channel": channel, "outcome": outcome}
            return value(m, "mignet_delivery_attempts_total", **labels)

        async def counted():
            m = await samples(notifier)
            parked = value(m, "mignet_deliveries", service="notifier", channel="email", status="parked")
            return m if parked == 1 else None

        m = await eventually(counted)
    assert {o: attempts("webhook", o, m) for o in ("delivered", "failed", "gone")} == {
        "delivered": 1,
        "failed": 1,
        "gone": 1,
    }
    # An unreachable SMTP server: two failed attempts, then parked (the test schedule has two retries).
    assert (attempts("email", "failed", m), attempts("email", "parked", m)) == (2, 1)
    webhook = {"service": "notifier", "channel": "webhook"}
    assert value(m, "mignet_delivery_attempt_duration_seconds_count", **webhook) == 3
    assert value(m, "mignet_delivery_delay_seconds_count", **webhook) == 1
    delay = value(m, "mignet_delivery_delay_seconds_sum", **webhook)
    assert delay is not None and 0.3 <= delay < 30  # the retry after the first failure waited 0.3 s
    assert value(m, "mignet_deliveries", service="notifier", channel="webhook", status="pending") == 0
    assert len(receiver.requests) == 3
