"""Operator requests every service answers on ``<service>.admin.<name>``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mignet_contracts.envelope import Contract, Identifier
from mignet_contracts.fields import max_items
from mignet_contracts.privacy import FindPersonalData, ForgetActor


class Health(Contract):
    pass


class ProjectionStatus(Contract):
    pass


class Readiness(Contract):
    pass


class RebuildProjections(Contract):
    projections: Annotated[list[Identifier], max_items(50)] = Field(
        default_factory=list, max_length=50, description="Empty: all of the service's projections."
    )
    progress_subject: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Where to publish progress messages {projection, done, total} while rebuilding.",
    )


ADMIN_REQUESTS = {
    "health": Health,
    "ready": Readiness,
    "projections.status": ProjectionStatus,
    "projections.rebuild": RebuildProjections,
    "privacy.find": FindPersonalData,
    "privacy.forget-actor": ForgetActor,
}


def admin_subject(service: str, name: str) -> str:
    return f"{service}.admin.{name}"
