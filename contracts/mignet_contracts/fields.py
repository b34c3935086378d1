"""Validated field types every contract shares, so a country or an e-mail is checked one way."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, core_schema

from mignet_contracts import reference

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def country_code(value: str) -> str:
    code = value.upper()
    if not reference.is_country(code):
        raise ValueError(
            f"unknown country code {value!r}: expected the ISO 3166-1 alpha-2 code of a UN member or observer state"
        )
    return code


def email(value: str) -> str:
    # Deliberately loose: the address is contact data, not an identity; delivery proves it.
    if not _EMAIL_RE.match(value):
        raise ValueError("not an e-mail address")
    return value


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def matching(pattern: str, what: str, expected: str) -> tuple[FieldInfo, AfterValidator]:
    """The metadata of a string checked against ``pattern``, whose error says what was wrong and what is expected.

    Use as ``Annotated[str, *matching(...)]``: the alias stays a visible ``str`` to type checkers.
    Pydantic's own pattern error shows the raw regex to the user; the JSON Schema
    still publishes the pattern for integrators.
    """
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"{_shown(value)} is not {what}: expected {expected}")
        return value

    return Field(json_schema_extra={"pattern": pattern}), AfterValidator(check)


def _country_code_shape(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError(
            f"{_shown(value)} is not a country code: expected two letters (ISO 3166-1 alpha-2), such as 'BD'"
        )
    return value


CountryCode = Annotated[
    str,
    Field(json_schema_extra={"pattern": r"^[A-Za-z]{2}$"}),
    AfterValidator(_country_code_shape),
    AfterValidator(country_code),
]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(email)]


def max_items(limit: int) -> BeforeValidator:
    """Refuses an array longer than ``limit`` by its count alone, before any element is validated.

    Pydantic checks ``max_length`` only after validating every element: 10,000 bad elements
    cost 0.13 s of CPU and 10,000 errors. Keep ``Field(max_length=limit)`` beside it for the
    JSON Schema.
    """

    def check(value):
        if isinstance(value, (list, tuple)) and len(value) > limit:
            raise PydanticCustomError(
                "too_long", "at most {limit} items, not {count}", {"limit": limit, "count": len(value)}
            )
        return value

    return BeforeValidator(check)


#: Paging bounds every list query shares: a page answers fast and fits in a reply.
DEFAULT_PAGE = 50
#: The largest page: 200 of the largest networks or contributions of the seed data fit well inside
#: NATS's 1 MB payload; a larger reply is refused with a short error anyway.
MAX_PAGE = 200
#: Skipping further than this costs the database more than it is worth; narrow the filters instead.
MAX_OFFSET = 100_000


#: What a personal field holds once its data subject's key is erased (``mignet privacy erase``).
ERASED = "(erased)"
#: What a personal field holds when read without its owner's key store (another service's stream).
WITHHELD = "(withheld)"
#: Validation context under which a personal field may hold :data:`ERASED` or :data:`WITHHELD`:
#: the runtime's codec decodes recorded events with it; commands are never validated with it.
UNREADABLE_OK = "mignet_personal_unreadable_ok"


class Personal:
    """Marks a contract field as personal data: one annotation, ``Annotated[str, ..., PERSONAL]``.

    The runtime's codec encrypts the field's value with its data subject's key on append and
    decrypts it on read (``runtime/mignet_runtime/personal.py``); domain code and projections
    see plain values, or :data:`ERASED` once the key is erased. The JSON Schema says
    ``"x-personal": true``; ``repr`` of a contract leaves the field out. ``lookup=True``
    (e-mail addresses) also indexes a keyed hash of the value, so ``mignet privacy erase
    --email`` can find the data subject. Put it last in the ``Annotated``: it wraps the
    field's own validation.
    """

    def __init__(self, *, lookup: bool = False):
        self.lookup = lookup

    def __repr__(self) -> str:
        return f"Personal(lookup={self.lookup})"

    def __get_pydantic_core_schema__(self, source, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_wrap_validator_function(_personal_value, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler: GetJsonSchemaHandler) -> dict:
        out = handler(schema)
        out["x-personal"] = True
        if self.lookup:
            out["x-personal-lookup"] = True
        return out


def _personal_value(value, validate, info: core_schema.ValidationInfo):
    if value in (ERASED, WITHHELD) and isinstance(info.context, dict) and info.context.get(UNREADABLE_OK):
        return value
    return validate(value)


PERSONAL = Personal()
PERSONAL_LOOKUP = Personal(lookup=True)
#: A personal e-mail address, indexed (keyed hash) for erasure requests by address.
PersonalEmail = Annotated[str, StringConstraints(max_length=254), AfterValidator(email), PERSONAL_LOOKUP]


_PERSONAL_FIELDS: dict[type, dict[str, Personal]] = {}


def personal_fields(model: type) -> dict[str, Personal]:
    """The model's own fields marked :class:`Personal`, by name (nested models are not included)."""
    found = _PERSONAL_FIELDS.get(model)
    if found is None:
        found = _PERSONAL_FIELDS[model] = {
            name: mark
            for name, info in getattr(model, "model_fields", {}).items()
            for mark in info.metadata
            if isinstance(mark, Personal)
        }
    return found
