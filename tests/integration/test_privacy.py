"""Personal data end to end: sealed in the streams, readable by its service, erased on request.

Both services run as their own NATS users on deploy/nats/nats.conf (``fresh_nats``), with
SecantusDB; the operator's CLI erases a person by e-mail address. Before and after, the
address is searched for in the raw stream messages, the nats-server store directory, every
read model, the service logs and nats-server's log: only ciphertext may be found.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from pathlib import Path

import nats
import pytest
from conftest import RunningService, eventually
from notifier_support import spec as notifier_spec
from test_reviews_service import AP, http_get, open_review, submission
from test_reviews_service import SPEC as REVIEWS_SPEC
from typer.testing import CliRunner

from mignet_cli.main import app as cli
from mignet_contracts import registry as r
from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_contracts.fields import ERASED
from mignet_registry.app import SPEC as REGISTRY_SPEC
from mignet_registry.projections import NETWORKS
from mignet_reviews import domain as reviews_domain
from mignet_runtime.client import RequestFailed
from mignet_runtime.keystore import KeyRing
from mignet_runtime.localstack import free_port
from mignet_runtime.personal import H_DATA_KEY, PREFIX
from mignet_runtime.projection import fold_stream

pytestmark = pytest.mark.integration

EMAIL = "amina.privata@example.org"
NAME = "Amina Privata-Secret"
ACTOR = "test:privacy"
SECRETS = (EMAIL.encode(), NAME.encode(), EMAIL.upper().encode())


@pytest.fixture
async def services(fresh_nats, settings_for, tmp_path, servers):
    port = free_port()
    async with (
        RunningService(REGISTRY_SPEC, settings_for(fresh_nats)) as registry,
        RunningService(REVIEWS_SPEC, settings_for(fresh_nats, http_port=port)) as reviews,
        # `mignet privacy` asks every service, the notifier too (its subscribers: test_notifier_privacy.py).
        RunningService(notifier_spec(), settings_for(fresh_nats)),
    ):
        reviews.base_url = f"http://127.0.0.1:{port}"
        # SecantusDB's files (journal included), when the tests started it.
        reviews.mongo_dir = servers.mongo.data_dir if servers.mongo is not None else None
        yield registry, reviews, fresh_nats, tmp_path


def _cmd(model, **fields):
    return model(command_id=new_id(), actor=ACTOR, **fields)


async def _raw_messages(nats_url: str, stream: str) -> list[bytes]:
    """Every message of ``stream`` as stored: headers and payload, read by the admin."""
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


def _files_holding(root: Path, needles=SECRETS) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]


async def _read_model_dump(*services) -> str:
    out = []
    for service in services:
        for name in await service.db.list_collection_names():
            out += [repr(doc) for doc in await service.db[name].find({}).to_list(None)]
    return "\n".join(out)


async def _cli(nats_url, *args: str):
    env = {"MIGNET_ACTOR": "cli:dpo", "NATS_USER": ""}
    argv = [*args, "--nats-url", nats_url.url_for("operator")]
    return await asyncio.to_thread(CliRunner().invoke, cli, argv, env=env)


async def _record(registry, reviews) -> str:
    """A network with this person as focal point, and a published contribution with them as contact."""
    await registry.client.command(
        _cmd(
            r.CreateNetwork,
            scope="national",
            country="BD",
            network_name="UN Network on Migration in Bangladesh",
            members=[{"entity": "IOM", "role": "coordinator"}],
            occurred_on=date(2024, 1, 10),
        )
    )
    await registry.client.command(
        _cmd(
            r.AssignFocalPoint,
            network_id="nat-bd",
            focal_point_name=NAME,
            entity="IOM",
            email=EMAIL,
            occurred_on=date(2024, 6, 1),
        )
    )
    await open_review(reviews.client)
    contact = {"name": NAME, "email": EMAIL}
    submitted = await reviews.client.command(submission(AP, contact=contact))
    await reviews.client.command(_cmd(c.PublishContribution, contribution_id=submitted.aggregate_id, note="Thank you"))
    return submitted.aggregate_id


async def _errors_with_personal_data(registry, reviews) -> list[str]:
    """Refused commands carrying the address: their replies (and the logs) must not repeat it."""
    said = []
    attempts = [
        (registry, _cmd(r.AssignFocalPoint, network_id="nat-bd", focal_point_name=NAME, entity="IOM", email=EMAIL)),
        (registry, _cmd(r.AssignFocalPoint, network_id="nat-bd", focal_point_name=NAME, entity="UNHCR", email=EMAIL)),
        (reviews, submission("africa-2024-2025", contact={"name": NAME, "email": EMAIL})),
    ]
    for service, command in attempts:
        with pytest.raises(RequestFailed) as refused:
            await service.client.command(command)
        said.append(refused.value.error.model_dump_json())
    # Malformed: the service's validation error must not echo the input either.
    bad = submission(AP, contact={"name": NAME, "email": EMAIL}).model_dump(mode="json") | {"objectives": [99]}
    reply = await reviews.client.request(c.SubmitContribution.subject(), bad)
    assert not reply.ok
    said.append(reply.model_dump_json())
    return said


async def test_a_person_is_sealed_then_erased_across_services(services, caplog):
    caplog.set_level(logging.INFO)  # the services log at INFO (LOG_LEVEL); PyMongo DEBUG logs documents
    registry, reviews, nats_url, tmp = services
    contribution_id = await _record(registry, reviews)

    # The services read their own personal data in clear, through the normal paths.
    network = await eventually(lambda: _with_focal_point(registry))
    assert network["focal_point"] == {"name": NAME, "entity": "IOM", "email": EMAIL, "assigned_on": "2024-06-01"}
    loaded = await reviews.runtime.executor.load(reviews_domain.CONTRIBUTION, contribution_id)
    assert loaded.state.contact.email == EMAIL

    errors = await _errors_with_personal_data(registry, reviews)
    assert not [e for e in errors if EMAIL in e or NAME in e], errors

    # Before the erasure: only ciphertext in the streams (with the key id), nothing in clear on disk.
    registry_raw = await _raw_messages(nats_url, "REGISTRY")
    reviews_raw = await _raw_messages(nats_url, "REVIEWS")
    for raw in registry_raw + reviews_raw:
        assert not any(s in raw for s in SECRETS), raw[:300]
    # Command hashes are keyed (ce-commandhmac): the address cannot be confirmed by hashing guesses.
    headers = [json.loads(m.partition(b"\n")[0]) for m in registry_raw + reviews_raw]
    assert all("ce-commandhmac" in h and "ce-commandhash" not in h for h in headers)
    # Who acted is a pseudonym, one per person and service.
    actors = {h["ce-actor"] for h in headers}
    assert all(a.startswith("person:") for a in actors)
    assert {await s.runtime.store.keys.pseudonym(ACTOR) for s in (registry, reviews)} <= actors
    assert not any(ACTOR.encode() in m or b"test:reviews" in m for m in registry_raw + reviews_raw)
    sealed = [m for m in registry_raw + reviews_raw if PREFIX.encode() in m]
    assert len(sealed) == 2 and all(H_DATA_KEY.encode() in m for m in sealed)
    assert _files_holding(tmp / "nats") == []
    # Personal data never enters a read model (get-network reads it from the event store).
    models = await _read_model_dump(registry, reviews)
    assert EMAIL not in models and NAME not in models

    # The operator erases the person by address; the CLI never prints it.
    erased = await _cli(nats_url, "privacy", "erase", "--email", EMAIL.upper(), "--requested-by", "ticket-42")
    assert erased.exit_code == 0, erased.output
    assert "nat-bd" in erased.output and contribution_id in erased.output and EMAIL not in erased.output

    # Read models say "erased"; the contribution stays published and public.
    network = await eventually(lambda: _with_erased_focal_point(registry))
    assert network["focal_point"]["entity"] == "IOM" and network["personal_data_erased_on"]
    doc = await eventually(lambda: _contact_erased(reviews, contribution_id))
    assert doc["status"] == "published"
    status, _, page = await http_get(f"{reviews.base_url}/contributions/{contribution_id}")
    assert status == 200 and "National review of GCM implementation" in page

    # Rebuilds and point-in-time replays read the old events without their keys: erased, no error.
    rebuilt = await registry.client.admin("registry", "projections.rebuild", {"projections": ["networks"]})
    assert rebuilt[0]["projection"] == "networks"
    network = await registry.client.query(r.GetNetwork(network_id="nat-bd"))
    assert network["focal_point"]["name"] == ERASED and network["focal_point"]["email"] == ERASED
    # The old event itself now reads erased (the key is gone), whatever the erasure event says.
    history = [e.event async for e in registry.runtime.store.read("registry.events.network.nat-bd.*")]
    assigned = [e for e in history if isinstance(e, r.NetworkFocalPointAssigned)]
    assert [(e.focal_point_name, e.email) for e in assigned] == [(ERASED, ERASED)]
    store = registry.runtime.store
    before_erasure = await fold_stream(
        store, NETWORKS, await store.last_seq(), include=lambda e: e.event.occurred_on <= date(2024, 12, 31)
    )
    assert before_erasure["nat-bd"]["focal_point"] == {"entity": "IOM", "assigned_on": "2024-06-01"}
    as_of = await registry.client.query(r.DirectorySummary(as_of=date(2024, 12, 31)))
    assert as_of is not None
    await reviews.client.admin("reviews", "projections.rebuild", {})
    assert (await reviews.client.query(c.GetContribution(contribution_id=contribution_id)))["status"] == "published"
    fresh = KeyRing(reviews.runtime.nc, "reviews")
    await fresh.open()
    assert await fresh.keys_of("contribution", contribution_id) == []
    assert await fresh.find(EMAIL) == []

    # The erasure record: when, who asked, which keys; no personal data.
    records = [m for m in await _raw_messages(nats_url, "REVIEWS") if b"personal-data-erased" in m]
    assert len(records) == 1
    headers, _, payload = records[0].partition(b"\n")
    record = json.loads(payload)
    assert record["requested_by"] == "ticket-42"
    assert record["key_ids"] == [f"contribution.{contribution_id}.{_submit_command_id(reviews_raw, contribution_id)}"]
    assert json.loads(headers)["ce-actor"] == await reviews.runtime.store.keys.pseudonym("cli:dpo")

    # Nowhere in clear: streams, the key bucket's files, read models, logs (ours and nats-server's).
    assert _files_holding(tmp / "nats") == []
    assert not [p for p in tmp.glob("*.log") if any(s in p.read_bytes() for s in SECRETS)]
    models = await _read_model_dump(registry, reviews)
    assert EMAIL not in models and NAME not in models
    if reviews.mongo_dir is not None:
        assert _files_holding(reviews.mongo_dir) == []
    assert EMAIL not in caplog.text and NAME not in caplog.text

    # Erasing again: nothing left to erase, said plainly, nothing written.
    again = await _cli(nats_url, "privacy", "erase", "--email", EMAIL, "--requested-by", "ticket-43")
    assert again.exit_code == 0 and "no personal data found" in again.output


def _submit_command_id(raw_messages: list[bytes], contribution_id: str) -> str:
    for raw in raw_messages:
        headers = json.loads(raw.partition(b"\n")[0])
        if headers.get("Nats-Subject") == f"reviews.events.contribution.{contribution_id}.submitted":
            return headers["ce-commandid"]
    raise AssertionError("no submitted event")


async def _with_focal_point(registry):
    network = await registry.client.query(r.GetNetwork(network_id="nat-bd"))
    return network if network.get("focal_point") else None


async def _with_erased_focal_point(registry):
    # The address reads erased as soon as its key is gone (it is read from the event); the read model says so
    # once its projection has applied the erasure event: both, before the test looks.
    network = await registry.client.query(r.GetNetwork(network_id="nat-bd"))
    erased = (network.get("focal_point") or {}).get("email") == ERASED and "personal_data_erased_on" in network
    return network if erased else None


async def _contact_erased(reviews, contribution_id):
    doc = await reviews.client.query(c.GetContribution(contribution_id=contribution_id))
    return doc if doc.get("contact_erased_on") else None


async def test_erase_personal_data_command_per_aggregate(services):
    registry, reviews, _, _ = services
    contribution_id = await _record(registry, reviews)
    erase = _cmd(c.ErasePersonalData, contribution_id=contribution_id, requested_by="data-subject")
    first = await reviews.client.command(erase)
    assert [e.type for e in first.events] == ["int.un-migration.mignet.reviews.contribution.personal-data-erased.v1"]
    # A resend replays (and shreds again, harmlessly); a new erasure finds nothing left.
    assert (await reviews.client.command(erase)).replayed
    with pytest.raises(RequestFailed) as nothing:
        await reviews.client.command(_cmd(c.ErasePersonalData, contribution_id=contribution_id, requested_by="x-1"))
    assert nothing.value.error.code == "rejected" and "erased already" in nothing.value.error.message
    loaded = await reviews.runtime.executor.load(reviews_domain.CONTRIBUTION, contribution_id)
    assert loaded.state.contact.email == ERASED and loaded.state.status.value == "published"

    # The registry's: every focal point the network had; a new one afterwards is sealed with a fresh key.
    await registry.client.command(_cmd(r.ErasePersonalData, network_id="nat-bd", requested_by="ticket-7"))
    await registry.client.command(
        _cmd(r.AssignFocalPoint, network_id="nat-bd", focal_point_name="New Person", entity="IOM", email="n@un.org")
    )
    network = await eventually(lambda: _focal_point_named(registry, "New Person"))
    assert network["focal_point"]["email"] == "n@un.org"
    with pytest.raises(RequestFailed) as unknown:
        await registry.client.command(_cmd(r.ErasePersonalData, network_id="nat-xx", requested_by="t"))
    assert unknown.value.error.code in ("not_found", "validation_error")


async def _focal_point_named(registry, name: str):
    network = await registry.client.query(r.GetNetwork(network_id="nat-bd"))
    return network if (network.get("focal_point") or {}).get("name") == name else None


async def test_a_person_acting_is_recorded_by_a_pseudonym_whose_link_can_be_erased(services):
    registry, reviews, nats_url, _ = services
    contribution_id = await _record(registry, reviews)
    withdrawn = await reviews.client.command(_cmd(c.WithdrawContribution, contribution_id=contribution_id))
    keys = reviews.runtime.store.keys
    before = await keys.pseudonym(ACTOR)
    raw = await _raw_messages(nats_url, "REVIEWS")
    (message,) = [m for m in raw if f'"Nats-Sequence": "{withdrawn.events[0].seq}"'.encode() in m]
    assert before.encode() in message and ACTOR.encode() not in message  # withdrawn_by is sealed too
    loaded = await reviews.runtime.executor.load(reviews_domain.CONTRIBUTION, contribution_id)
    assert loaded.state.withdrawn_by == ACTOR  # the service itself reads it

    forgot = await _cli(nats_url, "privacy", "forget-actor", ACTOR, "--json")
    assert forgot.exit_code == 0, forgot.output
    assert {(row["service"], row["forgotten"]) for row in json.loads(forgot.output)["items"]} == {
        ("registry", True),
        ("reviews", True),
        ("notifier", False),  # this person never acted on the notifier
    }
    fresh = await KeyRing(reviews.runtime.nc, "reviews").open()
    after = await fresh.pseudonym(ACTOR)
    assert after.startswith("person:") and after != before  # the old pseudonym names nobody now
