"""Filters in the public pages' query strings, turned into query fields (or refused)."""

from __future__ import annotations

from mignet_contracts import reference
from mignet_contracts import reviews as c


class BadFilter(ValueError):
    """A filter in the query string that the page cannot apply."""


def contributor_filter(value: str) -> dict[str, str]:
    """``member-state``, ``stakeholder`` or a stakeholder category, as ListContributions fields."""
    if not value:
        return {}
    if value in (str(c.ContributorKind.MEMBER_STATE), str(c.ContributorKind.STAKEHOLDER)):
        return {"contributor_kind": value}
    if value in reference.STAKEHOLDER_CATEGORIES:
        return {"contributor_kind": str(c.ContributorKind.STAKEHOLDER), "stakeholder_category": value}
    raise BadFilter(f"unknown contributor filter {value!r}")


def whole_number(value: str, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 6:
        raise BadFilter(f"{name} must be a whole number")
    return int(value)
