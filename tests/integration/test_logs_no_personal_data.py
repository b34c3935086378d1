"""The services' logs, in their production (JSON) form, name commands by id and never carry personal data."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from conftest import RunningService, eventually

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews.app import SPEC
from mignet_runtime import logs

ACTOR = "test:logs"
EMAIL = "amira.private.contact@example.org"
NAME = "Amira Privatename"


async def open_review(client) -> str:
    scheduled = await client.command(
        c.ScheduleReview(command_id=new_id(), actor=ACTOR, region="asia-pacific", cycle="2024-2025")
    )
    await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=scheduled.aggregate_id))
    return scheduled.aggregate_id


def submission(review_id: str) -> c.SubmitContribution:
    """A contribution with its contact (NAME, EMAIL): personal data that must reach no log line."""
    return c.SubmitContribution(
        command_id=new_id(),
        actor=ACTOR,
        review_id=review_id,
        contributor={"kind": "member-state", "country": "BD"},
        level="national",
        title="National review",
        summary="Progress on regular pathways.",
        objectives=[1],
        language="en",
        contact={"name": NAME, "email": EMAIL},
    )


async def test_a_submission_is_logged_by_its_ids_and_its_contact_never(fresh_nats, settings_for):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter("reviews"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # everything any library would say, not only the service's INFO
    try:
        async with RunningService(SPEC, settings_for(fresh_nats)) as reviews:
            client = reviews.client
            submit = submission(await open_review(client))
            submitted = await client.command(submit)
            await client.command(submit)  # a resend: replayed
            # Refused input that carries the address: the error never echoes it, nor does the log.
            bad = submit.model_dump(mode="json") | {
                "command_id": new_id(),
                "contact": {"name": NAME, "email": EMAIL + "x@"},
            }
            refused = await client.request("reviews.commands.submit-contribution", json.dumps(bad).encode())
            assert refused.error is not None and refused.error.code == "validation_error"
            await eventually(lambda: client.query(c.GetContribution(contribution_id=submitted.aggregate_id)))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = out.getvalue()
    assert EMAIL not in text and "amira.private" not in text and NAME not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all(line["service"] == "reviews" for line in lines)
    mine = [line for line in lines if line.get("command_id") == submit.command_id]
    assert mine, "the submission is logged (at DEBUG) under its command id"
    assert {line["aggregate_id"] for line in mine} == {submitted.aggregate_id}
    assert {line["correlation_id"] for line in mine} == {submit.command_id}
    assert any("replayed" in line["message"] for line in mine)


SUBSCRIBER = "focal.point.private@example.org"
REFUSED = "gone.person.private@example.org"


class _Sink:
    """A real SMTP server (aiosmtpd) that takes mail for SUBSCRIBER and refuses REFUSED, naming it in its answer
    (as relays do: the notifier must keep that answer's address out of its log)."""

    def __init__(self):
        self.delivered: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return f"550 5.1.1 <{address}>: recipient unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG], ids=["INFO", "DEBUG"])
async def test_the_notifier_logs_no_subscriber_address_nor_contribution_contact(fresh_nats, settings_for, level):
    """Registry, reviews and notifier with a real SMTP server: an e-mail subscription delivered, one whose address
    the server refuses (parked), a refused subscribe, a lookup by address, a contribution with its contact."""
    from aiosmtpd.smtp import SMTP
    from notifier_support import command, ids
    from notifier_support import spec as notifier_spec

    from mignet_contracts import notifier as n
    from mignet_registry.app import SPEC as REGISTRY

    sink = _Sink()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter("test"))
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(level)
    settings = settings_for(fresh_nats)
    try:
        async with (
            RunningService(REGISTRY, settings),
            RunningService(SPEC, settings) as reviews,
            RunningService(
                notifier_spec(smtp_url=f"smtp://127.0.0.1:{server.sockets[0].getsockname()[1]}"), settings
            ) as notifier,
        ):
            sids = []
            for address in (SUBSCRIBER, REFUSED):
                subscribe = n.CreateSubscription(
                    **ids(),
                    title="Asia-Pacific focal point",
                    channel="email",
                    email=address,
                    internal=True,
                    event_types=["int.un-migration.mignet.reviews.contribution.*"],
                )
                sids.append((await command(notifier.client, subscribe))["aggregate_id"])
            bad = subscribe.model_dump(mode="json") | {"command_id": new_id(), "email": SUBSCRIBER + "x@"}
            refused = await notifier.client.request("notifier.commands.create-subscription", json.dumps(bad).encode())
            assert refused.error is not None and refused.error.code == "validation_error"
            found = await notifier.client.admin("notifier", "privacy.find", {"email": SUBSCRIBER})
            assert [item["aggregate_id"] for item in found["items"]] == [sids[0]]

            async def active():
                shown = [await notifier.client.query(n.GetSubscription(subscription_id=sid)) for sid in sids]
                return all(doc["status"] == "active" for doc in shown)

            await eventually(active)
            await reviews.client.command(submission(await open_review(reviews.client)))

            async def ended():
                done = await notifier.client.query(n.ListDeliveries(subscription_id=sids[0], status="delivered"))
                parked = await notifier.client.query(n.ListDeliveries(subscription_id=sids[1], status="parked"))
                return done["total"] == 1 and parked["items"]

            [parked] = await eventually(ended, timeout=20)
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        server.close()
        await server.wait_closed()
    assert sink.delivered == [SUBSCRIBER]
    assert "(recipient)" in parked["last_error"]  # the server's answer, its address taken out
    # Every line but the SMTP server's own (aiosmtpd's logger "mail.log": the receiving end, not ours).
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    ours = [line for line in lines if not line["logger"].startswith("mail.log")]
    text = json.dumps(ours)
    for secret in (SUBSCRIBER, REFUSED, "focal.point.private", "gone.person.private", EMAIL, NAME):
        assert secret not in text
    notifier_lines = [line for line in ours if line["logger"].startswith("mignet_notifier")]
    assert any(parked["delivery_id"] in line["message"] for line in notifier_lines), "the parking is logged"
