"""A subscriber's e-mail address is personal data: sealed in NOTIFIER, never in MongoDB, erased on request.

The services run as their own NATS users on deploy/nats/nats.conf with SecantusDB, and a
real SMTP server (aiosmtpd) on loopback takes the messages. The address is searched for in
the raw stream messages, the nats-server store directory, every read model (and
SecantusDB's files when the tests started it) and the logs, before and after
`mignet privacy erase`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
from pathlib import Path

import nats
import pytest
from aiosmtpd.smtp import SMTP
from conftest import RunningService, eventually
from notifier_support import command, ids, spec
from typer.testing import CliRunner

from mignet_cli.main import app as cli
from mignet_contracts import notifier as c
from mignet_contracts import registry as r
from mignet_contracts.fields import ERASED
from mignet_notifier.queries import subscriber_address
from mignet_registry.app import SPEC as REGISTRY_SPEC
from mignet_reviews.app import SPEC as REVIEWS_SPEC
from mignet_runtime.client import RequestFailed
from mignet_runtime.keystore import KeyRing
from mignet_runtime.localstack import free_port

pytestmark = pytest.mark.integration

EMAIL = "nadia.subscriber@example.org"
NEEDLES = (EMAIL.encode(), EMAIL.upper().encode())
NETWORK_TYPES = ["int.un-migration.mignet.registry.network.*"]


class Inbox:
    """A real SMTP server's handler: keeps what it accepts; refuses the recipients in ``refuse``
    the way real servers do, repeating the address in the reply."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"450 <{address}>: mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


async def _smtp(inbox: Inbox):
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    return server, f"smtp://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _raw_messages(nats_url, stream: str) -> list[bytes]:
    """Every message of ``stream`` as stored (headers and payload), read by the admin."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        last = (await js.stream_info(stream)).state.last_seq
        out = []
        for seq in range(1, last + 1):
            msg = await js.get_msg(stream, seq, direct=True)
            out.append(json.dumps(msg.headers or {}).encode() + b"\n" + (msg.data or b""))
        return out
    finally:
        await nc.close()


def _files_holding(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in NEEDLES)]


async def _read_models(service) -> str:
    out = []
    for name in await service.db.list_collection_names():
        out += [repr(doc) for doc in await service.db[name].find({}).to_list(None)]
    return "\n".join(out)


async def _cli(nats_url, *args: str):
    env = {"MIGNET_ACTOR": "cli:dpo", "NATS_USER": "", "COLUMNS": "200"}
    argv = [*args, "--nats-url", nats_url.url_for("operator")]
    return await asyncio.to_thread(CliRunner().invoke, cli, argv, env=env)


async def _subscribe(notifier, address: str = EMAIL, **fields) -> str:
    created = await command(
        notifier.client,
        c.CreateSubscription(**ids(), title="Focal point", channel="email", email=address, internal=True, **fields),
    )
    sid = created["aggregate_id"]

    async def active():
        return (await notifier.client.query(c.GetSubscription(subscription_id=sid)))["status"] == "active"

    await eventually(active)
    return sid


async def _create_network(registry, country: str) -> None:
    await registry.client.command(
        r.CreateNetwork(
            **ids(),
            scope="national",
            country=country,
            network_name=f"UN Network on Migration in {country}",
            members=[{"entity": "IOM", "role": "coordinator"}],
        )
    )


async def _deliveries(notifier, sid: str, status: str | None = None) -> list[dict]:
    return (await notifier.client.query(c.ListDeliveries(subscription_id=sid, status=status)))["items"]


async def test_a_subscribers_address_is_sealed_then_erased_with_the_privacy_cli(
    fresh_nats, settings_for, tmp_path, servers, caplog
):
    caplog.set_level(logging.INFO)
    inbox = Inbox()
    smtp, smtp_url = await _smtp(inbox)
    settings = settings_for(fresh_nats)
    try:
        async with (
            RunningService(REGISTRY_SPEC, settings) as registry,
            RunningService(REVIEWS_SPEC, settings_for(fresh_nats, http_port=free_port())),
            RunningService(spec(smtp_url=smtp_url), settings) as notifier,
        ):
            sid = await _subscribe(notifier, event_types=NETWORK_TYPES)
            webhook = await command(
                notifier.client,
                c.CreateSubscription(
                    **ids(), title="hook", channel="webhook", url="http://127.0.0.1:9/h", event_types=NETWORK_TYPES
                ),
            )
            # The notifier reads the address from its sealed event: shown to the operator, mailed to.
            shown = await notifier.client.query(c.GetSubscription(subscription_id=sid))
            assert shown["email"] == EMAIL and shown["channel"] == "email"
            await _create_network(registry, "BD")
            await eventually(lambda: _expanded(notifier, registry))
            expected = await _deliveries(notifier, sid)  # created, and the member that joined with it

            async def all_delivered():
                return len(await _deliveries(notifier, sid, "delivered")) == len(expected) >= 1

            await eventually(all_delivered, timeout=15)
            assert inbox.recipients == [[EMAIL]] * len(expected)

            # Only ciphertext in NOTIFIER; no address in the read models, the store's files, or the logs.
            assert not [m for m in await _raw_messages(fresh_nats, "NOTIFIER") if any(n in m for n in NEEDLES)]
            assert EMAIL not in await _read_models(notifier)
            assert _files_holding(tmp_path / "nats") == []

            erased = await _cli(fresh_nats, "privacy", "erase", "--email", EMAIL.upper(), "--requested-by", "t-9")
            assert erased.exit_code == 0, erased.output
            assert sid in erased.output and "notifier" in erased.output and EMAIL not in erased.output

            async def deleted():
                doc = await notifier.client.query(c.GetSubscription(subscription_id=sid))
                return doc if doc["status"] == "deleted" else None

            doc = await eventually(deleted)
            assert doc["email"] == ERASED and doc["personal_data_erased_on"]
            assert doc["status_reason"] == "the subscriber's address was erased"
            # The key and the index entry are gone: nothing can open the address again, nor find it.
            fresh = await KeyRing(notifier.runtime.nc, "notifier").open()
            assert await fresh.keys_of("subscription", sid) == [] and await fresh.find(EMAIL) == []
            # The webhook subscription holds no personal data and is untouched.
            assert (await notifier.client.query(c.GetSubscription(subscription_id=webhook["aggregate_id"])))[
                "status"
            ] == "active"

            # It can no longer send: a later event reaches no one through it.
            await _create_network(registry, "PH")
            await eventually(lambda: _expanded(notifier, registry))
            assert len(await _deliveries(notifier, sid)) == len(expected)
            assert inbox.recipients == [[EMAIL]] * len(expected)

            # The erasure record: who asked and which key, no address; a second erasure finds nothing.
            records = [m for m in await _raw_messages(fresh_nats, "NOTIFIER") if b"personal-data-erased" in m]
            assert len(records) == 1
            record = json.loads(records[0].partition(b"\n")[2])
            assert record["requested_by"] == "t-9" and record["key_ids"][0].startswith(f"subscription.{sid}.")
            again = await _cli(fresh_nats, "privacy", "erase", "--email", EMAIL, "--requested-by", "t-10")
            assert again.exit_code == 0 and "no personal data found" in again.output

            # A rebuild of the read model reads the old event without its key: still no address.
            await notifier.client.admin("notifier", "projections.rebuild", {"projections": ["subscriptions"]})
            doc = await eventually(deleted)
            assert doc["email"] == ERASED
            assert EMAIL not in await _read_models(notifier)
    finally:
        smtp.close()
        await smtp.wait_closed()
    assert not [m for m in await _raw_messages(fresh_nats, "NOTIFIER") if any(n in m for n in NEEDLES)]
    assert _files_holding(tmp_path / "nats") == []
    assert not [p for p in tmp_path.glob("*.log") if any(n in p.read_bytes() for n in NEEDLES)]
    if servers.mongo is not None:  # SecantusDB's files and journal, when the tests started it
        assert _files_holding(servers.mongo.data_dir) == []
    assert not _logged(caplog)


async def _expanded(notifier, registry) -> bool:
    """Every registry event so far is expanded into the notifier's deliveries (its cursor is at the end)."""
    cursor = await notifier.db["expansion_cursors"].find_one({"_id": "registry"}) or {"seq": 0}
    return cursor["seq"] == await registry.runtime.store.last_seq()


async def test_an_erased_address_cancels_what_waits_and_a_refusal_never_stores_it(fresh_nats, settings_for, caplog):
    caplog.set_level(logging.INFO)
    inbox = Inbox(refuse=(EMAIL,))
    smtp, smtp_url = await _smtp(inbox)
    try:
        async with (
            RunningService(REGISTRY_SPEC, settings_for(fresh_nats)) as registry,
            RunningService(spec(smtp_url=smtp_url, retry_schedule=(0.2,)), settings_for(fresh_nats)) as notifier,
        ):
            sid = await _subscribe(notifier, event_types=NETWORK_TYPES)
            await _create_network(registry, "BD")
            await eventually(lambda: _expanded(notifier, registry))
            expected = len(await _deliveries(notifier, sid))

            async def all_parked():
                found = await _deliveries(notifier, sid, "parked")
                return found if len(found) == expected >= 1 else None

            # The server refused the recipient (repeating it): the deliveries park, the errors say "(recipient)".
            for parked in await eventually(all_parked, timeout=15):
                assert parked["last_status_code"] == 450 and "(recipient)" in parked["last_error"]
            assert EMAIL not in await _read_models(notifier)

            erase = c.ErasePersonalData(**ids(), subscription_id=sid, requested_by="data-subject")
            first = await notifier.client.command(erase)
            assert [e.type for e in first.events] == [c.SubscriptionPersonalDataErased.ce_type()]
            assert (await notifier.client.command(erase)).replayed  # a resend replays, shreds again harmlessly
            with pytest.raises(RequestFailed) as nothing:
                await notifier.client.command(
                    c.ErasePersonalData(**ids(), subscription_id=sid, requested_by="data-subject")
                )
            assert nothing.value.error.code == "rejected" and "erased already" in nothing.value.error.message
            # The address now opens to "(erased)" (the worker checks it before sending, whatever the read model).
            assert await subscriber_address(notifier.runtime.executor, sid) == ERASED

            async def deleted():
                doc = await notifier.client.query(c.GetSubscription(subscription_id=sid))
                return doc["status"] == "deleted"

            await eventually(deleted)
            # Parked deliveries sent again after the erasure are cancelled: there is no address to send to.
            await command(notifier.client, c.RetryDeliveries(**ids(), subscription_id=sid))

            async def all_cancelled():
                found = await _deliveries(notifier, sid, "cancelled")
                return found if len(found) == expected else None

            for cancelled in await eventually(all_cancelled, timeout=15):
                assert cancelled["last_error"] == "the subscription was deleted"
            assert inbox.messages == []
            # After the erasure the subscription takes no command but the erasure's resend.
            with pytest.raises(RequestFailed) as gone:
                await notifier.client.command(c.ResumeSubscription(**ids(), subscription_id=sid))
            assert gone.value.error.code == "not_found"
    finally:
        smtp.close()
        await smtp.wait_closed()
    assert not _logged(caplog)


def _logged(caplog) -> list[str]:
    """Our log lines holding the address (the test's own SMTP server, aiosmtpd's ``mail.log``, may)."""
    return [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log") and EMAIL in r.getMessage()]
