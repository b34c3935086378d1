"""The registry and the reviews service together on one NATS: registry facts reach contributions.

The reviews service mirrors the registry's events through its own consumers and joins
the mirror when a query runs, so a network established or a champion confirmed after a
contribution was published shows on it at once.
"""

from __future__ import annotations

import json

import pytest
from conftest import RunningService, eventually
from test_reviews_service import ACTOR, AP, MFA, http_get, open_review, submit_and_publish

from mignet_contracts import reference
from mignet_contracts import registry as r
from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime.localstack import free_port

FOCAL_POINT_EMAIL = "focal.point.private@example.org"


@pytest.fixture
async def both(fresh_nats, settings_for):
    port = free_port()
    # The registry first, as deployed: its stream exists when reviews' mirror consumers start.
    async with (
        RunningService(REGISTRY, settings_for(fresh_nats)) as registry,
        RunningService(REVIEWS, settings_for(fresh_nats, http_port=port)) as reviews,
    ):
        reviews.base_url = f"http://127.0.0.1:{port}"
        yield registry, reviews


async def facts_of(reviews, contribution_id: str, **expected) -> dict:
    async def probe():
        doc = await reviews.client.query(c.GetContribution(contribution_id=contribution_id))
        return doc if all(doc.get(k) == v for k, v in expected.items()) else None

    return await eventually(probe)


async def test_registry_facts_show_on_contributions_as_they_change(both):
    registry, reviews = both
    await registry.client.command(
        r.CreateNetwork(
            command_id=new_id(),
            actor=ACTOR,
            scope="national",
            country="BD",
            network_name="UN Network on Migration in Bangladesh",
            status="being-established",
            members=[{"entity": "IOM"}],
        )
    )
    await registry.client.command(
        r.AssignFocalPoint(
            command_id=new_id(),
            actor=ACTOR,
            network_id="nat-bd",
            focal_point_name="F. Point",
            entity="IOM",
            email=FOCAL_POINT_EMAIL,
        )
    )
    # Being established is not yet an existing network: the nomination names the mechanism it relies on.
    assessment = [
        {"criterion": code, "met": True, "note": "UNCT thematic group on migration"}
        for code in reference.COUNTRY_CHAMPION_CRITERIA
    ]
    await registry.client.command(
        r.NominateChampion(
            command_id=new_id(), actor=ACTOR, country="BD", regional_group="asia-pacific", assessment=assessment
        )
    )

    await open_review(reviews.client)
    bd = await submit_and_publish(reviews.client)
    ph = await submit_and_publish(reviews.client, contributor=MFA, level="regional")
    no_country = await submit_and_publish(
        reviews.client,
        contributor={"kind": "stakeholder", "category": "academia", "organization": "Asian Research Network"},
    )

    before = await facts_of(
        reviews, bd, status="published", champion_status="nominated", network_status="being-established"
    )
    assert before["country_has_network"] is True and before["country_is_champion"] is False

    # Later registry events: the contribution itself is not touched, the join shows them.
    await registry.client.command(
        r.ChangeNetworkStatus(command_id=new_id(), actor=ACTOR, network_id="nat-bd", status="established")
    )
    await registry.client.command(r.ConfirmChampion(command_id=new_id(), actor=ACTOR, country="BD"))
    after = await facts_of(reviews, bd, champion_status="confirmed", network_status="established")
    assert after["country_has_network"] is True and after["country_is_champion"] is True

    philippines = await facts_of(reviews, ph, status="published")
    assert philippines["country"] == "PH"
    assert (philippines["country_has_network"], philippines["network_status"]) == (False, None)
    assert (philippines["country_is_champion"], philippines["champion_status"]) == (False, None)
    stateless = await facts_of(reviews, no_country, status="published")
    assert stateless["country_has_network"] is None and stateless["country_is_champion"] is None

    listed = await reviews.client.query(c.ListContributions(review_id=AP, country="BD"))
    assert listed["items"][0]["country_is_champion"] is True
    compiled = await reviews.client.query(c.Compilation(region="asia-pacific"))
    assert {i["contribution_id"]: i["network_status"] for i in compiled["items"]} == {
        bd: "established",
        ph: None,
        no_country: None,
    }

    status, _, page = await http_get(f"{reviews.base_url}/contributions/{bd}")
    assert status == 200
    assert '<dd data-fact="network">Yes, established</dd>' in page
    assert '<dd data-fact="champion">Yes</dd>' in page
    status, _, page = await http_get(f"{reviews.base_url}/contributions/{ph}")
    assert '<dd data-fact="network">None recorded</dd>' in page and '<dd data-fact="champion">No</dd>' in page

    # The mirror keeps only what reviews shows: no focal points (personal data), no members.
    mirror = await reviews.db["registry_networks"].find({}, {"_id": 0, "_seq": 0, "_fence": 0}).to_list(None)
    [network] = mirror
    assert set(network) == {"country", "network_id", "status", "status_since"}
    assert (network["country"], network["network_id"], network["status"]) == ("BD", "nat-bd", "established")
    assert FOCAL_POINT_EMAIL not in json.dumps(
        [await reviews.db[name].find({}).to_list(None) for name in await reviews.db.list_collection_names()],
        default=str,
    )

    # Rebuilt from the streams, the read models come out the same (and still without personal data).
    rebuilt = await reviews.client.admin("reviews", "projections.rebuild", {})
    assert {p["projection"]: p["documents"] for p in rebuilt} == {
        "reviews": 1,
        "contributions": 3,
        "registry-networks": 1,
        "registry-champions": 1,
        "registry-directory-networks": 1,
        "registry-directory-champions": 1,
        "registry-working-groups": 0,
    }
    assert await facts_of(reviews, bd, champion_status="confirmed", network_status="established")
    assert FOCAL_POINT_EMAIL not in json.dumps(
        await reviews.db["registry_networks"].find({}).to_list(None), default=str
    )
