"""How the registry's rules name things to operators: statuses, countries, UN entities."""

from __future__ import annotations

from enum import StrEnum

from mignet_contracts import reference


def words(status: StrEnum) -> str:
    return status.value.replace("-", " ")


def country_name(code: str) -> str:
    return reference.country(code).name


def entity_name(code: str) -> str:
    # Operators know entities by acronym; short names ("UN Women", "UN DESA") read better than codes.
    entity = reference.UN_ENTITIES.get(code)
    return entity.name if entity and len(entity.name) <= 16 else code
