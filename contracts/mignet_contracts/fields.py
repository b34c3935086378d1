"""Validated field types every contract shares, so a country or an e-mail is checked one way."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

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


def matching(pattern: str, what: str, expected: str) -> Any:
    """A string type checked against ``pattern``, whose error says what was wrong and what is expected.

    Pydantic's own pattern error shows the raw regex to the user; the JSON Schema
    still publishes the pattern for integrators.
    """
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"{_shown(value)} is not {what}: expected {expected}")
        return value

    return Annotated[str, Field(json_schema_extra={"pattern": pattern}), AfterValidator(check)]


def _country_code_shape(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError(
            f"{_shown(value)} is not a country code: expected two letters (ISO 3166-1 alpha-2), such as 'BD'"
        )
    return value


CountryCode = Annotated[
    str, Field(json_schema_extra={"pattern": r"^[A-Za-z]{2}$"}), AfterValidator(_country_code_shape),
    AfterValidator(country_code),
]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(email)]
