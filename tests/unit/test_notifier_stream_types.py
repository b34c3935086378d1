"""The notifier covers the whole REGISTRY stream: working groups and support requests, their facets and e-mails."""

from __future__ import annotations

from datetime import date

from mignet_contracts import catalog, feed
from mignet_contracts import notifier as c
from mignet_contracts import registry as r
from mignet_contracts import support as sr
from mignet_contracts import working_groups as wg
from mignet_notifier.domain.matching import facets
from mignet_notifier.mail import render
from mignet_notifier.projections import FOREIGN

DAY = date(2026, 12, 1)
HOSTILE = '<script>alert("x")</script> & Co'


def test_every_event_of_the_consumed_streams_is_subscribable_but_contact_details():
    expected = {e.ce_type(): e.public for e in catalog.ALL_EVENTS if e not in c.PERSONAL_EVENTS}
    assert expected == c.SUBSCRIBABLE
    assert c.SOURCE_EVENTS[r.SERVICE] is catalog.REGISTRY_STREAM_EVENTS is feed.SOURCES["REGISTRY"]
    for event in (*wg.WORKING_GROUP_EVENTS, *sr.SUPPORT_EVENTS):
        assert c.SUBSCRIBABLE[event.ce_type()] is True  # public, and no personal field among them
        assert event.ce_type() in c.types_matching("int.un-migration.mignet.registry.*")
    # The notifier's consumer decodes what it may deliver.
    registry_source = next(source for source in FOREIGN if source.service == r.SERVICE)
    assert set(catalog.REGISTRY_STREAM_EVENTS) <= set(registry_source.codec.event_classes)


def test_a_webhook_may_name_the_new_types_and_their_wildcards():
    made = c.CreateSubscription(
        command_id="cmd",
        actor="t",
        title="t",
        channel="webhook",
        url="https://h.example.org/x",
        event_types=["int.un-migration.mignet.registry.support-request.*", wg.WorkingGroupCreated.ce_type()],
    )
    assert len(made.event_types) == 2


def test_facets_of_support_requests_and_of_a_national_networks_pilot():
    requested = sr.SupportRequested(
        request_id="sr-0123456789ab",
        requester="member-state",
        country="BD",
        region="asia-pacific",
        measures=["specific-objectives"],
        objectives=[13],
        champion=True,
        occurred_on=DAY,
    )
    assert facets(requested) == {"country": "BD", "region": "asia-pacific"}
    pilot = wg.OutputPilotStarted(
        group_id="data", output_id="o-0123456789ab", network_id="nat-bd", started_on=DAY, occurred_on=DAY
    )
    assert facets(pilot) == {"country": "BD"}  # a national network's id names its country
    status = r.NetworkStatusChanged(
        network_id="reg-0123456789ab", from_status="being-established", to_status="established", occurred_on=DAY
    )
    assert facets(status) == {}  # a regional network names no country
    # A request's progress names only the request: expansion gives it the request's facets (inherited_facets).
    assert facets(sr.SupportAccepted(request_id="sr-0123456789ab", working_group="data", occurred_on=DAY)) == {}


def _mail(event) -> tuple[str, str, str]:
    delivery = {
        "cloud_event": {
            "type": event.ce_type(),
            "subject": event.aggregate_id,
            "id": "e1",
            "time": "2026-12-07T00:00:00Z",
            "data": event.model_dump(mode="json"),
        }
    }
    return render(delivery, {"title": "desk", "subscription_id": "s-1"})


def test_emails_of_the_new_types_read_well_and_escape_contributed_text():
    requested = sr.SupportRequested(
        request_id="sr-0123456789ab",
        requester="un-country-team",
        country="PH",
        region="asia-pacific",
        measures=["specific-objectives", "review-and-reporting"],
        objectives=[5, 13],
        description=HOSTILE,
        champion=False,
        occurred_on=DAY,
    )
    subject, text, html = _mail(requested)
    assert subject == "[mignet] PH asks the Network for support (un-country-team)"
    assert "measures: review-and-reporting, specific-objectives" in text and "champion: no" in text
    assert HOSTILE in text and "<script>" not in html and "&lt;script&gt;" in html

    joined = wg.WorkingGroupMemberJoined(
        group_id="data",
        member={"kind": "stakeholder", "category": "civil-society", "organization": HOSTILE},
        occurred_on=DAY,
    )
    subject, text, html = _mail(joined)
    assert subject == f"[mignet] {HOSTILE} (civil-society) joined working group data"
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    iom = wg.WorkingGroupMemberJoined(group_id="data", member={"kind": "un-entity", "entity": "IOM"}, occurred_on=DAY)
    assert _mail(iom)[0] == "[mignet] IOM joined working group data"
    for event, expected in (
        (sr.SupportDeclined(request_id="sr-0123456789ab", reason="out of scope", occurred_on=DAY), "declined"),
        (wg.WorkingGroupCreated(group_id="data", group_name="Data", core=True, workstream=None, occurred_on=DAY), ""),
    ):
        subject, text, _ = _mail(event)
        assert expected in subject and "{" not in subject and "\n" not in subject
