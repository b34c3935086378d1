"""The registry's FAQ corrections end to end: NATS in, JetStream events, MongoDB read models, the CLI."""

from __future__ import annotations

import json

import pytest
from conftest import RunningService, eventually
from test_registry_cli import mignet

from mignet_contracts import reference as ref
from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry import seed
from mignet_registry.app import SPEC
from mignet_runtime.client import RequestFailed

ACTOR = "test:registry-faq"


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


async def test_the_seeded_global_network_answers_by_role(registry):
    summary = await seed.load(registry.client)
    assert summary["kept"] == [] and summary["written"] == len(seed.seed_commands())

    async def secretariat():
        found = await registry.client.query(c.ListNetworks(role="secretariat"))
        return found["items"] if found["total"] else None

    [network] = await eventually(secretariat)
    assert network["network_id"] == "global"
    roles = network["roles"]
    assert roles["secretariat"] == ["IOM"] and roles["coordinator"] == ["IOM"]
    assert sorted(roles["executive-committee"]) == sorted(ref.EXECUTIVE_COMMITTEE)  # 8, IOM among them
    assert roles["executive-committee-invitee"] == ["WHO"]
    iom = next(m for m in network["members"] if m["entity"] == "IOM")
    assert iom["roles"] == ["coordinator", "executive-committee", "secretariat"]
    only_iom = await registry.client.query(c.ListNetworks(member="UNHCR", role="secretariat"))
    assert only_iom["total"] == 0

    champions = await eventually(lambda: _champions(registry, 14))
    assert all(ch["criteria_met"] == 0 and ch["criteria_not_assessed"] == 5 for ch in champions["items"])
    balance = champions["geographic_balance"]
    assert balance["by_regional_group"]["asia-pacific"] == 5 and balance["groups_without_champions"] == []


async def _champions(registry, count):
    found = await registry.client.query(c.ListChampions(status="confirmed"))
    return found if found["total"] == count else None


async def test_a_stream_seeded_by_an_earlier_version_keeps_its_events(registry):
    # An earlier seed nominated and confirmed Bangladesh with other content under the same command ids.
    earlier = c.NominateChampion(
        command_id="seed-2020-nominate-bd",
        actor=ACTOR,
        country="BD",
        regional_group="asia-pacific",
        assessment=[{"criterion": code, "met": True, "note": "listed"} for code in ref.COUNTRY_CHAMPION_CRITERIA],
        occurred_on=seed.AS_OF,
    )
    await registry.client.command(earlier)
    await registry.client.command(
        c.ConfirmChampion(command_id="seed-2020-confirm-bd", actor=ACTOR, country="BD", occurred_on=seed.AS_OF)
    )
    summary = await seed.load(registry.client)
    assert summary["kept"] == ["seed-2020-nominate-bd", "seed-2020-confirm-bd"]
    again = await seed.load(registry.client)
    assert again["written"] == 0 and again["kept"] == ["seed-2020-nominate-bd", "seed-2020-confirm-bd"]
    kept = await eventually(lambda: registry.client.query(c.GetChampion(country="BD")))
    assert kept["criteria_met"] == 5  # the earlier seed's events stand


async def test_committee_roles_outside_the_global_network_are_refused_and_nothing_is_written(registry):
    await registry.client.command(
        c.CreateNetwork(
            command_id=new_id(), actor=ACTOR, scope="national", country="BD", network_name="UNNM Bangladesh"
        )
    )
    before = await registry.runtime.store.last_seq()
    with pytest.raises(RequestFailed) as failure:
        await registry.client.command(
            c.AddNetworkMember(
                command_id=new_id(), actor=ACTOR, network_id="nat-bd", entity="WFP", role="executive-committee"
            )
        )
    assert failure.value.error.code == "rejected"
    assert "exists only in the global" in failure.value.error.message
    with pytest.raises(RequestFailed) as failure:
        await registry.client.command(
            c.NominateChampion(
                command_id=new_id(),
                actor=ACTOR,
                country="CA",
                regional_group="west-africa",
                assessment=[{"criterion": code, "met": None} for code in ref.COUNTRY_CHAMPION_CRITERIA],
            )
        )
    assert "Canada is not in the champion regional group west-africa" in failure.value.error.message
    assert await registry.runtime.store.last_seq() == before


async def test_cli_roles_kind_and_terms_of_reference_with_flags(registry):
    created = await mignet(
        registry,
        "registry",
        "create-network",
        "--scope",
        "national",
        "--country",
        "NP",
        "--name",
        "UN Network on Migration in Nepal",
        "--kind",
        "strengthened-platform",
        "--occurred-on",
        "2020-01-01",
        "--member",
        "IOM:coordinator",
        "--member",
        "UNDP",
        "--member",
        "ILO",
    )
    assert created.exit_code == 0, created.output
    role = await mignet(registry, "registry", "add-member-role", "nat-np", "undp", "co-lead")
    assert role.exit_code == 0 and "UNDP is now also co-lead of nat-np" in role.stdout
    refused = await mignet(registry, "registry", "add-member-role", "nat-np", "ILO", "executive-committee")
    assert refused.exit_code == 1 and "exists only in the global" in refused.stderr
    assert "Traceback" not in refused.output
    aligned = await mignet(
        registry,
        "registry",
        "align-tor",
        "nat-np",
        "--aligned-on",
        "2021-03-01",
        "--agreed-by",
        "IOM",
        "--agreed-by",
        "UNDP",
        "--consulted",
        "IOM",
    )
    assert aligned.exit_code == 0, aligned.output

    async def shown():
        doc = json.loads((await mignet(registry, "registry", "network", "nat-np", "--json")).stdout)
        return doc if doc.get("tor") and doc["roles"].get("co-lead") else None

    doc = await eventually(shown)
    assert doc["kind"] == "strengthened-platform"
    assert doc["tor"]["not_agreed"] == ["ILO"] and doc["tor"]["complete"] is False
    assert doc["tor"]["not_consulted"] == [e for e in ref.EXECUTIVE_COMMITTEE if e != "IOM"]
    table = await mignet(registry, "registry", "network", "nat-np")
    assert "Terms of reference aligned on 2021-03-01 (flagged); not agreed: ILO" in table.stdout
    assert "co-lead" in table.stdout
    kinds = await mignet(registry, "registry", "networks", "--kind", "strengthened-platform", "--json")
    assert [n["network_id"] for n in json.loads(kinds.stdout)["items"]] == ["nat-np"]
    reclassified = await mignet(registry, "registry", "classify-network", "nat-np", "new-network")
    assert reclassified.exit_code == 0, reclassified.output
