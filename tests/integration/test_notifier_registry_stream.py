"""Every event of the REGISTRY stream reaches its subscribers: the working groups' and the support requests' too
(they were skipped: the notifier decoded the stream with the networks' and champions' events only).

The registry service and the notifier run as with `make run`; a real loopback receiver verifies each
webhook with standardwebhooks, and a real in-process SMTP server (aiosmtpd) takes the e-mail.
"""

from __future__ import annotations

import asyncio

from aiosmtpd.smtp import SMTP
from conftest import RunningService, eventually
from notifier_support import Receiver, command, ids, spec
from standardwebhooks import Webhook
from test_notifier_email import Inbox

from mignet_contracts import notifier as c
from mignet_contracts import support as sr
from mignet_contracts import working_groups as wg
from mignet_registry import seed
from mignet_registry.app import SPEC as REGISTRY

DESCRIPTION = 'Plan for <script>alert("x")</script> & return'


async def _active(notifier, sid: str) -> None:
    async def active():
        return (await notifier.client.query(c.GetSubscription(subscription_id=sid)))["status"] == "active"

    await eventually(active)


async def test_working_group_and_support_request_events_reach_webhooks_and_email(fresh_nats, settings_for):
    inbox = Inbox()
    smtp = await asyncio.get_running_loop().create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    smtp_url = f"smtp://127.0.0.1:{smtp.sockets[0].getsockname()[1]}"
    settings = settings_for(fresh_nats)
    try:
        async with (
            Receiver() as receiver,
            RunningService(REGISTRY, settings) as registry,
            RunningService(spec(smtp_url=smtp_url), settings) as notifier,
        ):
            await seed.load(registry.client)  # BD a confirmed champion, the FAQ's working groups
            hook = await command(
                notifier.client,
                c.CreateSubscription(
                    **ids(),
                    title="integrator",
                    channel="webhook",
                    url=receiver.url(),
                    event_types=["int.un-migration.mignet.registry.*"],
                ),
            )
            mail = await command(
                notifier.client,
                c.CreateSubscription(
                    **ids(),
                    title="BD desk",
                    channel="email",
                    email="bd.desk@example.org",
                    event_types=["int.un-migration.mignet.registry.support-request.*"],
                    filters={"country": "BD"},
                ),
            )
            await _active(notifier, hook["aggregate_id"])
            await _active(notifier, mail["aggregate_id"])

            asked = await registry.client.command(
                sr.RequestSupport(
                    **ids(),
                    country="BD",
                    requester="member-state",
                    measures=["specific-objectives"],
                    objectives=[13],
                    description=DESCRIPTION,
                    occurred_on="2026-12-01",
                )
            )
            other = await registry.client.command(
                sr.RequestSupport(
                    **ids(), country="PH", requester="member-state", measures=["specific-objectives"], objectives=[7]
                )  # another country: not mailed to the BD desk
            )
            # Their progress names only the request: the BD desk hears of BD's (its facets are inherited).
            for request in (asked, other):
                await registry.client.command(
                    sr.AcceptSupport(
                        **ids(), request_id=request.aggregate_id, working_group="alternatives-to-detention"
                    )
                )
            await registry.client.command(
                wg.CreateWorkingGroup(
                    **ids(), group_id="pilot-tools", group_name="Pilot tools", core=False, workstream="data"
                )
            )
            await registry.client.command(
                wg.JoinWorkingGroup(**ids(), group_id="pilot-tools", member={"kind": "un-entity", "entity": "IOM"})
            )

            async def all_delivered():
                webhook = await notifier.client.query(c.ListDeliveries(subscription_id=hook["aggregate_id"]))
                email = await notifier.client.query(c.ListDeliveries(subscription_id=mail["aggregate_id"]))
                done = [d for d in webhook["items"] + email["items"] if d["status"] == "delivered"]
                return len(done) == 8

            await eventually(all_delivered, timeout=20)
            await asyncio.sleep(0.5)  # room for a wrong extra delivery to show
    finally:
        smtp.close()
        await smtp.wait_closed()

    events = [Webhook(hook["secret"]).verify(request.body, request.headers) for request in receiver.requests]
    assert sorted(e["type"].split(".registry.")[1] for e in events) == [
        "support-request.accepted.v1",
        "support-request.accepted.v1",
        "support-request.requested.v1",
        "support-request.requested.v1",
        "working-group.created.v1",
        "working-group.member-joined.v1",
    ]
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 6
    [bd] = [e for e in events if e["subject"] == asked.aggregate_id and e["type"].endswith(".requested.v1")]
    assert bd["data"]["champion"] is True and bd["data"]["region"] == "asia-pacific"
    assert bd["data"]["description"] == DESCRIPTION  # JSON, as recorded: escaping is the receiver's

    assert inbox.recipients == [["bd.desk@example.org"]] * 2
    message, accepted = sorted(inbox.messages, key=lambda m: "accepted" in m["Subject"])
    assert message["Subject"] == "[mignet] BD asks the Network for support (member-state)"
    assert accepted["Subject"] == f"[mignet] Support request {asked.aggregate_id} accepted"
    assert "working group: alternatives-to-detention" in accepted.get_body(("plain",)).get_content()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert DESCRIPTION in text and "champion: yes" in text and asked.aggregate_id in text
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; return" in html
