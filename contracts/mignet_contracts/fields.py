"""Validated field types every contract shares, so a country or an e-mail is checked one way."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

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


CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$"), AfterValidator(country_code)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(email)]
