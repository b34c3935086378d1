"""Which subscriptions an event goes to (pure).

An event matches a subscription when the subscription is active, was created
before the event was recorded, names the event's type (exactly, or by a
``prefix.*``), passes its filters, and the event is public or the
subscription internal. A filter passes only when the event carries that field
with that value: a region filter on ``contribution.published``, which names
no region, does not pass.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from mignet_contracts import reviews
from mignet_contracts.envelope import Event

Doc = dict[str, Any]
#: A national network's id is ``nat-`` and its country's code (registry.national_network_id).
NATIONAL_PREFIX = "nat-"


def facets(event: Event) -> dict[str, str]:
    """The values filters compare: country, region and review id, where the event carries them.

    Implied ones too: a review id names its region, and a national network's id (``nat-bd``) its country,
    so a country filter hears of that network's changes and of the pilots it runs.
    """
    found: dict[str, str] = {}
    for name in ("country", "region", "review_id"):
        value = getattr(event, name, None)
        if value:
            found[name] = str(value)
    network_id = getattr(event, "network_id", None)
    if "country" not in found and isinstance(network_id, str) and network_id.startswith(NATIONAL_PREFIX):
        found["country"] = network_id.removeprefix(NATIONAL_PREFIX).upper()
    if "review_id" in found and "region" not in found:
        try:
            found["region"] = str(reviews.parse_review_id(found["review_id"])[0])
        except ValueError:
            pass
    return found


def type_matches(event_type: str, patterns: list[str] | tuple[str, ...]) -> bool:
    return any(p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns)


def matches(subscription: Doc, event_type: str, public: bool, event_facets: dict, recorded_at: datetime) -> bool:
    if subscription.get("status") != "active" or subscription["created_at"] > recorded_at:
        return False
    if not public and not subscription.get("internal"):
        return False
    if not type_matches(event_type, subscription["event_types"]):
        return False
    return all(event_facets.get(name) == value for name, value in (subscription.get("filters") or {}).items())


def delivery_id(event_id: str, subscription_id: str) -> str:
    """Stable per (event, subscription): the ``webhook-id`` a receiver de-duplicates on, and the delivery's key."""
    return "d-" + hashlib.sha256(f"{event_id}/{subscription_id}".encode()).hexdigest()[:24]
