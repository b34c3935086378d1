"""The replies the AsyncAPI documents promise are the replies a running service sends (issue 9.3).

Raw NATS requests to the real registry, as any client would send them; each reply is
validated against the reply message of the registry's AsyncAPI document, refs resolved in it.
"""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from conftest import RunningService
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_contracts.schemas import SCHEMA_DIR
from mignet_registry.app import SPEC

pytestmark = pytest.mark.integration

DOCUMENT = json.loads((SCHEMA_DIR / "asyncapi" / "registry.json").read_text())
REFS = Registry().with_resource("urn:registry", Resource.from_contents(DOCUMENT, default_specification=DRAFT7))


def reply_validator(key: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"urn:registry#/channels/replies/messages/{key}_reply/payload"}, registry=REFS)


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)):
        nc = await nats.connect(fresh_nats.url_for("operator"), inbox_prefix="_INBOX_operator")
        yield nc
        await nc.close()


async def _ask(nc, model, body: dict) -> dict:
    reply = await nc.request(model.subject(), json.dumps(body).encode(), timeout=10)
    return json.loads(reply.data)


async def test_command_replies_match_the_documented_reply(registry):
    create = {
        "command_id": new_id(),
        "actor": "test",
        "scope": "national",
        "country": "BD",
        "network_name": "UN Network on Migration in Bangladesh",
    }
    done = await _ask(registry, c.CreateNetwork, create)
    refused = await _ask(registry, c.CreateNetwork, {**create, "command_id": new_id()})  # one network per country
    malformed = await _ask(registry, c.CreateNetwork, {"actor": "test"})
    assert (done["ok"], refused["ok"], malformed["ok"]) == (True, False, False)
    validator = reply_validator("commands_create_network")
    for reply in (done, refused, malformed):
        assert list(validator.iter_errors(reply)) == [], reply
    assert list(validator.iter_errors({**done, "result": {"aggregate": "network"}}))  # the validator has teeth


async def test_list_query_replies_are_a_page(registry):
    page = await _ask(registry, c.ListNetworks, {})
    assert page["ok"] is True
    assert list(reply_validator("queries_list_networks").iter_errors(page)) == []


async def test_every_registry_query_reply_matches_its_view(registry):
    from mignet_contracts.registry_views import RESULTS

    async def command(model, **fields) -> None:
        reply = await _ask(registry, model, {"command_id": new_id(), "actor": "test", **fields})
        assert reply["ok"], reply

    await command(
        c.CreateNetwork,
        scope="national",
        country="BD",
        network_name="Bangladesh",
        status="established",
        occurred_on="2020-01-01",
    )
    await command(c.AddNetworkMember, network_id="nat-bd", entity="IOM", role="coordinator")
    await command(
        c.AlignTermsOfReference,
        network_id="nat-bd",
        aligned_on="2024-01-01",
        consulted_executive_committee=True,
        occurred_on="2024-01-01",
    )
    await command(
        c.AssignFocalPoint, network_id="nat-bd", focal_point_name="A. Rahman", entity="IOM", email="a@example.org"
    )
    assessment = [{"criterion": code, "met": True} for code in c.reference.COUNTRY_CHAMPION_CRITERIA]
    await command(c.NominateChampion, country="BD", regional_group="asia-pacific", assessment=assessment)
    await command(c.ConfirmChampion, country="BD")
    await command(c.ChangeNetworkStatus, network_id="nat-bd", status="inactive", reason="merged")
    asks = {  # each query, and what its answer shows once the read models caught up
        # list-networks has the focal point's entity only; get-network reads the person from the events.
        c.ListNetworks: ({}, ['"inactive"', '"assigned_on"']),
        c.GetNetwork: ({"network_id": "nat-bd"}, ['"inactive"', "A. Rahman", '"not_consulted": []']),
        c.ListChampions: ({}, ['"confirmed"']),
        c.GetChampion: ({"country": "BD"}, ['"confirmed"', '"network_status"']),
        c.DirectorySummary: ({}, ['"confirmed"', '"inactive"']),
    }
    assert set(asks) == set(RESULTS) == set(c.REGISTRY_QUERIES)
    for query, (body, shows) in asks.items():
        for _ in range(200):  # the read models follow the stream
            reply = await _ask(registry, query, body)
            if reply["ok"] and all(text in json.dumps(reply) for text in shows):
                break
            await asyncio.sleep(0.05)
        assert all(text in json.dumps(reply) for text in shows), reply
        key = f"queries_{query.name}".replace("-", "_")
        assert list(reply_validator(key).iter_errors(reply)) == [], (query.name, reply)
        RESULTS[query].model_validate(reply["result"])


REVIEWS_DOCUMENT = json.loads((SCHEMA_DIR / "asyncapi" / "reviews.json").read_text())
REVIEWS_REFS = Registry().with_resource(
    "urn:reviews", Resource.from_contents(REVIEWS_DOCUMENT, default_specification=DRAFT7)
)


async def test_every_reviews_query_reply_matches_its_view(fresh_nats, settings_for):
    from test_reviews_service import ACTOR, MFA, NATS_ONLY, open_review, submission, submit_and_publish

    from mignet_contracts import reviews as rv
    from mignet_contracts.reviews_views import RESULTS

    async with RunningService(NATS_ONLY, settings_for(fresh_nats)) as reviews:
        review_id = await open_review(reviews.client)
        contribution_id = await submit_and_publish(reviews.client, review_id, contributor=MFA)
        rejected = await reviews.client.command(submission(review_id))
        await reviews.client.command(
            rv.RejectContribution(command_id=new_id(), actor=ACTOR, contribution_id=rejected.aggregate_id, reason="r")
        )
        nc = await nats.connect(fresh_nats.url_for("operator"), inbox_prefix="_INBOX_operator")
        try:
            asks = {  # each query, and what its answer shows once the read models caught up
                rv.ListReviews: ({}, [review_id]),
                rv.GetReview: ({"review_id": review_id}, ['"open-for-contributions"']),
                rv.ListContributions: ({"review_id": review_id}, ['"published"', '"rejected"']),
                rv.GetContribution: ({"contribution_id": contribution_id}, ['"published"']),
                rv.ReviewFigures: ({"review_id": review_id}, ['"published"', '"rejected"']),
                rv.Compilation: ({}, [contribution_id]),
            }
            assert set(asks) == set(RESULTS) == set(rv.REVIEWS_QUERIES)
            for query, (body, shows) in asks.items():
                for _ in range(200):  # the read models follow the stream
                    reply = await _ask(nc, query, body)
                    if reply["ok"] and all(text in json.dumps(reply) for text in shows):
                        break
                    await asyncio.sleep(0.05)
                assert all(text in json.dumps(reply) for text in shows), reply
                key = f"queries_{query.name}".replace("-", "_")
                ref = f"urn:reviews#/channels/replies/messages/{key}_reply/payload"
                validator = Draft7Validator({"$ref": ref}, registry=REVIEWS_REFS)
                assert list(validator.iter_errors(reply)) == [], (query.name, reply)
                RESULTS[query].model_validate(reply["result"])
        finally:
            await nc.close()
