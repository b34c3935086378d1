"""The registry service end to end: NATS request-reply in, events in JetStream, read models in MongoDB."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import RunningService, eventually

from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC
from mignet_runtime.client import RequestFailed

ACTOR = "test:registry"


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        yield service


def create_bd(**kw):
    return c.CreateNetwork(
        **({"command_id": new_id()} | kw),
        actor=ACTOR,
        scope="national",
        country="BD",
        network_name="UN Network on Migration in Bangladesh",
    )


async def test_create_network_reaches_the_read_model(registry):
    result = await registry.client.command(
        create_bd(members=[{"entity": "IOM", "role": "coordinator"}, {"entity": "UNICEF"}])
    )
    assert result.aggregate_id == "nat-bd"
    assert [e.subject for e in result.events] == [
        "registry.events.network.nat-bd.created",
        "registry.events.network.nat-bd.member-joined",
        "registry.events.network.nat-bd.member-joined",
    ]
    listed = await eventually(lambda: _listed(registry))
    [network] = listed["items"]
    assert network["name"] == "UN Network on Migration in Bangladesh"
    assert network["status"] == "under-consideration"
    assert network["region"] == "asia-pacific"
    assert network["member_count"] == 2
    assert {m["entity"]: m["role"] for m in network["members"]} == {"IOM": "coordinator", "UNICEF": "member"}


async def _listed(registry):
    result = await registry.client.query(c.ListNetworks(country="BD"))
    return result if result["total"] else None


async def test_one_national_network_per_country(registry):
    await registry.client.command(create_bd())
    with pytest.raises(RequestFailed) as failure:
        await registry.client.command(create_bd())
    assert failure.value.error.code == "rejected"
    assert "already exists" in failure.value.error.message
    assert await registry.runtime.store.last_seq() == 1


async def test_resent_command_returns_first_result_and_writes_nothing(registry):
    command = create_bd(command_id="create-bd-once")
    first = await registry.client.command(command)
    again = await registry.client.command(command)
    assert again.replayed and not first.replayed
    assert again.events == first.events
    assert await registry.runtime.store.last_seq() == 1


async def test_bad_input_gets_structured_error_and_writes_nothing(registry):
    reply = await registry.client.request(
        c.CreateNetwork.subject(),
        {"actor": ACTOR, "scope": "national", "country": "XX", "network_name": "", "surprise": 1},
    )
    assert not reply.ok and reply.error.code == "validation_error"
    fields = {d.field for d in reply.error.details}
    assert {"country", "network_name", "surprise"} <= fields
    garbage = await registry.client.request(c.CreateNetwork.subject(), b"{not json")
    assert garbage.error.code == "validation_error"
    assert await registry.runtime.store.last_seq() == 0


async def test_status_lifecycle_and_illegal_transition(registry):
    await registry.client.command(create_bd())
    await registry.client.command(
        c.ChangeNetworkStatus(command_id=new_id(), actor=ACTOR, network_id="nat-bd", status="being-established")
    )
    await registry.client.command(
        c.ChangeNetworkStatus(command_id=new_id(), actor=ACTOR, network_id="nat-bd", status="established")
    )
    with pytest.raises(RequestFailed) as failure:
        await registry.client.command(
            c.ChangeNetworkStatus(command_id=new_id(), actor=ACTOR, network_id="nat-bd", status="under-consideration")
        )
    assert failure.value.error.code == "rejected"

    async def established():
        found = await registry.client.query(c.ListNetworks(status="established"))
        return found["items"][0] if found["total"] else None

    doc = await eventually(established)
    assert [h["status"] for h in doc["status_history"]] == ["under-consideration", "being-established", "established"]


async def test_champion_existing_network_criterion_is_checked_against_the_registry(registry):
    assessment = [{"criterion": code, "met": True} for code in c.reference.COUNTRY_CHAMPION_CRITERIA]
    with pytest.raises(RequestFailed) as failure:
        await registry.client.command(
            c.NominateChampion(
                command_id=new_id(), actor=ACTOR, country="BD", regional_group="asia-pacific", assessment=assessment
            )
        )
    assert failure.value.error.code == "rejected" and "existing UN network" in failure.value.error.message
    await registry.client.command(create_bd(status="established"))
    result = await registry.client.command(
        c.NominateChampion(
            command_id=new_id(), actor=ACTOR, country="BD", regional_group="asia-pacific", assessment=assessment
        )
    )
    assert result.aggregate_id == "bd"
    await registry.client.command(c.ConfirmChampion(command_id=new_id(), actor=ACTOR, country="BD"))

    async def confirmed():
        found = await registry.client.query(c.ListChampions(status="confirmed"))
        return found["items"] if found["total"] else None

    [champion] = await eventually(confirmed)
    assert champion["existing_network_id"] == "nat-bd" and champion["criteria_met"] == 5


async def test_directory_as_of_a_past_date_replays_the_stream(registry):
    await registry.client.command(create_bd(occurred_on=date(2020, 6, 1)))
    await registry.client.command(
        c.ChangeNetworkStatus(
            command_id=new_id(), actor=ACTOR, network_id="nat-bd", status="established", occurred_on=date(2021, 3, 1)
        )
    )
    await registry.client.command(
        c.CreateNetwork(
            command_id=new_id(),
            actor=ACTOR,
            scope="national",
            country="MX",
            network_name="Red de las Naciones Unidas sobre la Migración en México",
            occurred_on=date(2022, 1, 1),
        )
    )
    then = await registry.client.query(c.DirectorySummary(as_of=date(2020, 10, 31)))
    assert then["as_of"] == "2020-10-31"
    assert then["networks"]["total"] == 1
    assert then["networks"]["by_status"] == {"under-consideration": 1}

    async def now():
        summary = await registry.client.query(c.DirectorySummary())
        return summary if summary["networks"]["total"] == 2 else None

    assert (await eventually(now))["networks"]["by_status"] == {"established": 1, "under-consideration": 1}


async def test_events_carry_cloudevents_headers_and_json_payload(registry):
    await registry.client.command(create_bd(correlation_id="corr-1"))
    msg = await registry.runtime.store.js.get_msg("REGISTRY", 1)
    assert msg.headers["ce-type"] == "int.un-migration.mignet.registry.network.created.v1"
    assert msg.headers["ce-subject"] == "nat-bd"
    # A person is recorded by pseudonym (docs/privacy.md), the same one every time.
    assert msg.headers["ce-actor"] == await registry.runtime.store.keys.pseudonym(ACTOR)
    assert msg.headers["ce-actor"].startswith("person:") and ACTOR not in msg.headers["ce-actor"]
    assert msg.headers["ce-correlationid"] == "corr-1"
    assert json.loads(msg.data)["network_name"] == "UN Network on Migration in Bangladesh"


async def test_command_replicas_and_one_projection_replica_share_the_work(fresh_nats, settings_for):
    """MIGNET_ROLE: commands scale out; exactly one replica runs the projections."""
    async with (
        RunningService(SPEC, settings_for(fresh_nats, role="commands")) as first,
        RunningService(SPEC, settings_for(fresh_nats, role="commands")) as second,
        RunningService(SPEC, settings_for(fresh_nats, role="projections")) as projector,
    ):
        assert first.runtime.runners == {} and second.runtime.runners == {}
        every = {"networks", "champions", "working-groups", "support-requests"}
        assert set(projector.runtime.runners) == every
        codes = ["BD", "NP", "PH", "TH", "ID", "VN"]
        for client, code in zip([first.client, second.client] * 3, codes, strict=True):
            await client.command(
                c.CreateNetwork(
                    command_id=new_id(),
                    actor=ACTOR,
                    scope="national",
                    country=code,
                    network_name=f"UN Network on Migration, {code}",
                )
            )

        async def all_listed():
            found = await first.client.query(c.ListNetworks())
            return found if found["total"] == len(codes) else None

        assert {n["country"] for n in (await eventually(all_listed))["items"]} == set(codes)
        status = await first.client.admin("registry", "projections.status")  # answered by the projector
        assert {row["projection"] for row in status} == every


def test_unknown_role_is_refused_at_start():
    from mignet_runtime.settings import Settings

    with pytest.raises(SystemExit, match="MIGNET_ROLE"):
        Settings(role="everything")
