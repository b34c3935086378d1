"""What every service shares about personal data: the erasure record and the operator's look-up.

A field is marked personal with :data:`mignet_contracts.fields.PERSONAL` (or
``PersonalEmail``); the runtime encrypts it with a data key per data subject.
Erasing deletes the key; the ``personal-data-erased`` event each service records
says that it happened, when, at whose request and which keys, never the data.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mignet_contracts.envelope import ID_PATTERN, Actor, Contract, Identifier
from mignet_contracts.fields import PERSONAL, PersonalEmail, max_items

_ID = ID_PATTERN.strip("^$")
#: ``<aggregate>.<aggregate id>.<command id>``: the data key of the personal data one command wrote.
DATA_KEY_ID_PATTERN = rf"^[a-z][a-z-]{{0,31}}\.{_ID}\.{_ID}$"
DataKeyId = Annotated[str, StringConstraints(pattern=DATA_KEY_ID_PATTERN)]
#: Keys erased by one erasure: far more than one aggregate's history of personal data.
MAX_ERASED_KEYS = 500


class PersonalDataErasure(Contract):
    """The fields of every ``personal-data-erased`` event: the erasure record, without the data.

    When is the event's ``ce-time`` (and ``occurred_on``); who ran it is ``ce-actor``.
    """

    key_ids: Annotated[list[DataKeyId], max_items(MAX_ERASED_KEYS)] = Field(
        max_length=MAX_ERASED_KEYS, description="The data keys erased: what they encrypted can no longer be read."
    )
    requested_by: Identifier = Field(
        description="Who asked, as a reference (a request or ticket id, or 'data-subject'): never a name or address."
    )


class ErasureRequest(Contract):
    """The envelope-free part of every ``erase-personal-data`` command."""

    requested_by: Identifier = Field(
        description="Who asked, as a reference (a request or ticket id, or 'data-subject'): never a name or address."
    )


class FindPersonalData(Contract):
    """``<service>.admin.privacy.find``: the aggregates holding personal data of ``email``.

    The service compares a keyed hash (HMAC-SHA256 with its own secret) of the address
    with its index; it stores no address in clear. The answer names aggregates only.
    """

    email: PersonalEmail


class ForgetActor(Contract):
    """``<service>.admin.privacy.forget-actor``: erase the link between a person and their pseudonym.

    Events record a person as ``ce-actor: person:<random>``; the service's key bucket alone
    links it to the name. Once the link is erased the pseudonym names nobody (a later
    action by the same name gets a new one).
    """

    actor: Annotated[Actor, PERSONAL]


class FoundPersonalData(Contract):
    aggregate: Identifier
    aggregate_id: Identifier


class FoundPersonalDataList(Contract):
    items: Annotated[list[FoundPersonalData], max_items(MAX_ERASED_KEYS)] = Field(max_length=MAX_ERASED_KEYS)
