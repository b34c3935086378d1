"""One case rule for subjects (issue 9.6): every token is lower case, ids included.

The one payload field that differs is a champion's ``country`` (ISO upper case, ``CL``),
whose subject token is ``cl``; the AsyncAPI parameter says so.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from mignet_contracts import catalog
from mignet_contracts import registry as rg
from mignet_contracts import reviews as rv


def test_every_service_aggregate_and_event_token_is_lower_case():
    for cls in (*catalog.ALL_EVENTS, *catalog.HISTORIC_EVENTS):
        assert cls.subject_for("x") == cls.subject_for("x").lower(), cls
    for model in (*rg.REGISTRY_COMMANDS, *rg.REGISTRY_QUERIES, *rv.REVIEWS_COMMANDS, *rv.REVIEWS_QUERIES):
        assert model.subject() == model.subject().lower(), model


@pytest.mark.parametrize(
    ("id_type", "lower", "upper"),
    [
        (rg.NetworkId, "nat-bd", "NAT-BD"),
        (rg.NetworkId, "reg-0123456789ab", "reg-0123456789AB"),
        (rv.ReviewId, "asia-pacific-2024-2025", "Asia-Pacific-2024-2025"),
        (rv.ContributionId, "c-0123456789abcdef", "c-0123456789ABCDEF"),
    ],
)
def test_ids_that_become_subject_tokens_are_lower_case_only(id_type, lower, upper):
    adapter = TypeAdapter(id_type)
    assert adapter.validate_python(lower) == lower
    with pytest.raises(ValidationError):
        adapter.validate_python(upper)


def test_a_champions_subject_token_is_its_country_code_in_lower_case():
    event = rg.ChampionConfirmed(country="cl", occurred_on=date(2020, 10, 1))
    assert event.country == "CL" and event.subject == "registry.events.champion.cl.confirmed"
