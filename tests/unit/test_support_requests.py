"""Support to countries (the FAQ's section 6) as pure deciders, and its read model and figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from mignet_contracts import reference as ref
from mignet_contracts import registry as c
from mignet_contracts import support as sr
from mignet_contracts.envelope import new_id
from mignet_registry import domain
from mignet_registry.domain import CHAMPION, NETWORK, SUPPORT_REQUEST_AGGREGATE, WORKING_GROUP_AGGREGATE
from mignet_registry.support_views import SUPPORT_REQUESTS, figures
from mignet_runtime.codec import RecordedEvent
from mignet_runtime.errors import NotFound, Rejected
from mignet_runtime.projection import fold

TODAY = date(2024, 6, 1)
ON = date(2021, 1, 1)


def request(**fields) -> sr.RequestSupport:
    defaults = {"command_id": new_id(), "actor": "ops", "country": "BD", "requester": "member-state"}
    return sr.RequestSupport(**(defaults | {"measures": ["national-implementation-plans"]} | fields))


def national_network(status="established", country="BD"):
    network_id = c.national_network_id(country)
    created = c.NetworkCreated(
        network_id=network_id, scope="national", country=country, network_name="n", status=status, occurred_on=ON
    )
    return NETWORK.fold(network_id, [created])


def champion(status="confirmed"):
    events = [c.ChampionNominated(country="BD", regional_group="asia-pacific", assessment=[], occurred_on=ON)]
    if status == "confirmed":
        events.append(c.ChampionConfirmed(country="BD", occurred_on=ON))
    return CHAMPION.fold("bd", events)


def requested(command, **context):
    context = {"national_network": NETWORK.initial(c.national_network_id(command.country))} | context
    state = SUPPORT_REQUEST_AGGREGATE.initial(command.request_id)
    return domain.request_support(state, command, TODAY, **context)


def rejection(command, **context) -> str:
    with pytest.raises((Rejected, NotFound)) as excinfo:
        requested(command, **context)
    return excinfo.value.message


def test_a_champion_countrys_request_is_flagged():
    command = request(measures=["specific-objectives", "review-and-reporting"], objectives=[13, 7, 13])
    (event,) = requested(command, champion=champion())
    assert (event.country, event.region, event.champion) == ("BD", "asia-pacific", True)
    assert event.measures == ["review-and-reporting", "specific-objectives"] and event.objectives == [7, 13]
    (event,) = requested(request(), champion=champion("nominated"))
    assert event.champion is False  # a nomination is not yet a champion
    (event,) = requested(request(), champion=None)
    assert event.champion is False


def test_a_national_network_asks_only_when_the_country_has_an_established_one():
    command = request(requester="national-network")
    assert rejection(command) == "Bangladesh has no national network to make the request"
    being = national_network("being-established")
    assert "is being established, not yet an established network" in rejection(command, national_network=being)
    (event,) = requested(command, national_network=national_network())
    assert event.network_id == "nat-bd" and event.requester is sr.Requester.NATIONAL_NETWORK


def test_who_may_ask_and_what_goes_with_what():
    assert rejection(request(country="PS")) == "State of Palestine is an observer state, not a member state"
    requested(request(country="PS", requester="un-country-team"))
    assert rejection(request(measures=["specific-objectives"])) == (
        "support on specific GCM objectives needs the objectives concerned"
    )
    assert "review settings go with" in rejection(request(review_settings=["imrf"]))
    framework = request(measures=["review-and-reporting"], review_settings=["imrf"], uses_review_framework=True)
    assert "applies to review and reporting in a GCM regional review" in rejection(framework)
    ok = request(measures=["review-and-reporting"], review_settings=["gcm-regional-review"], uses_review_framework=True)
    assert requested(ok)[0].uses_review_framework is True
    with pytest.raises(ValidationError, match="unknown country code"):
        request(country="XX")
    with pytest.raises(ValidationError, match="unknown support measure"):
        request(measures=["money"])
    with pytest.raises(ValidationError):
        request(measures=[])
    assert len(ref.SUPPORT_MEASURES) == 7


def test_the_lifecycle_and_its_illegal_transitions():
    command = request()
    history = requested(command)
    state = SUPPORT_REQUEST_AGGREGATE.fold(command.request_id, history)
    rid = command.request_id

    def step(model, state, **fields):
        _, decide = domain.DECIDERS[model]
        events = decide(state, model(command_id=new_id(), actor="ops", request_id=rid, **fields), TODAY, **ctx)
        return SUPPORT_REQUEST_AGGREGATE.fold(rid, [*history, *events]), events

    ctx: dict = {}
    with pytest.raises(Rejected, match="is requested; it cannot become in progress"):
        step(sr.StartSupport, state)
    ctx = {"working_group": WORKING_GROUP_AGGREGATE.initial("data")}
    with pytest.raises(NotFound, match="there is no working group data"):
        step(sr.AcceptSupport, state, working_group="data")
    ctx = {}
    accepted, events = step(sr.AcceptSupport, state, lead_entity="IOM")
    history = [*history, *events]
    started, events = step(sr.StartSupport, accepted)
    history = [*history, *events]
    with pytest.raises(Rejected, match="is in progress; it cannot become declined"):
        step(sr.DeclineSupport, started, reason="no")
    done, events = step(sr.CompleteSupport, started, note="plan adopted")
    assert done.status is sr.SupportStatus.COMPLETED
    with pytest.raises(Rejected, match=r"from completed: nothing \(final\)"):
        step(sr.StartSupport, done)
    with pytest.raises(NotFound):
        step(sr.StartSupport, SUPPORT_REQUEST_AGGREGATE.initial(rid))
    with pytest.raises(ValidationError, match="exactly one of working_group or lead_entity"):
        sr.AcceptSupport(command_id="x", actor="ops", request_id=rid, working_group="data", lead_entity="IOM")


def recorded(seq, event):
    return RecordedEvent(
        seq, event.subject, event, f"e{seq}", datetime(2026, 1, 1, tzinfo=UTC), f"c{seq}", "t", None, None
    )


def test_the_read_model_and_figures():
    first, second = request(occurred_on=ON), request(country="MX", measures=["stakeholder-engagement"], occurred_on=ON)
    events = [
        *requested(first, champion=champion()),
        *requested(second),
        sr.SupportDeclined(request_id=second.request_id, reason="covered by another programme", occurred_on=ON),
    ]
    docs = fold(SUPPORT_REQUESTS, [recorded(i, e) for i, e in enumerate(events, start=1)])
    assert docs[second.request_id]["status"] == "declined"
    assert docs[second.request_id]["decline_reason"] == "covered by another programme"
    assert [h["status"] for h in docs[second.request_id]["status_history"]] == ["requested", "declined"]
    numbers = figures(list(docs.values()))
    assert numbers == {
        "total": 2,
        "open": 1,
        "by_status": {"declined": 1, "requested": 1},
        "by_measure": {"national-implementation-plans": 1, "stakeholder-engagement": 1},
        "by_region": {"asia-pacific": 1, "latin-america-caribbean": 1},
        "by_requester": {"member-state": 2},
        "from_champions": 1,
        "countries": 2,
    }
