"""The public feed sources every public event each service writes, and nothing personal."""

from __future__ import annotations

from mignet_contracts import catalog, feed
from mignet_registry.app import CODEC as REGISTRY_CODEC
from mignet_reviews.app import CODEC as REVIEWS_CODEC
from mignet_runtime import personal

REGISTRY_SERVICE_EVENTS = REGISTRY_CODEC.event_classes
REVIEWS_SERVICE_EVENTS = REVIEWS_CODEC.event_classes


def test_public_is_every_public_event_the_services_write():
    written = {"REGISTRY": REGISTRY_SERVICE_EVENTS, "REVIEWS": REVIEWS_SERVICE_EVENTS}
    assert {stream: set(events) for stream, events in feed.SOURCES.items()} == {
        stream: set(events) for stream, events in written.items()
    }
    assert set(catalog.ALL_EVENTS) == {*REGISTRY_SERVICE_EVENTS, *REVIEWS_SERVICE_EVENTS}
    assert "registry.events.working-group.*.created" in feed.public_subjects("REGISTRY")
    assert "registry.events.support-request.*.requested" in feed.public_subjects("REGISTRY")


def test_no_public_event_holds_personal_data_and_internal_ones_stay_out():
    assert [cls.ce_type() for cls in feed.public_events() if personal.plan_for(cls)] == []
    subjects = {s for stream in feed.SOURCES for s in feed.public_subjects(stream)}
    for internal in (
        "reviews.events.contribution.*.submitted",
        "reviews.events.contribution.*.contact-recorded",
        "reviews.events.contribution.*.withdrawn",
        "reviews.events.contribution.*.personal-data-erased",
        "registry.events.network.*.focal-point-assigned",
        "registry.events.network.*.personal-data-erased",
    ):
        assert internal not in subjects
