"""Champion countries: nomination against the six criteria, confirmation, withdrawal.

Pure, like the network rules: no I/O and no clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Command, Event
from mignet_contracts.registry import (
    SERVICE,
    ChampionConfirmed,
    ChampionNominated,
    ChampionStatus,
    ChampionWithdrawn,
    ConfirmChampion,
    CriterionAssessment,
    NominateChampion,
    WithdrawChampion,
    national_network_id,
)
from mignet_registry.domain.network import EXISTING_STATUSES, NetworkState, initial_network
from mignet_registry.domain.wording import country_name as _country_name
from mignet_registry.domain.wording import words as _words
from mignet_runtime.aggregate import AggregateType, event_date
from mignet_runtime.errors import NotFound, Rejected

ACTIVE_CHAMPION_STATUSES: frozenset[ChampionStatus] = frozenset({ChampionStatus.NOMINATED, ChampionStatus.CONFIRMED})
EXISTING_NETWORK_CRITERION = "existing-un-network"


# --- State -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChampionState:
    id: str
    country: str
    exists: bool = False
    status: ChampionStatus | None = None
    regional_group: str | None = None
    assessment: tuple[CriterionAssessment, ...] = ()
    existing_network_id: str | None = None
    nominated_on: date | None = None
    confirmed_on: date | None = None
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None
    history: tuple[tuple[date, ChampionStatus], ...] = ()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_CHAMPION_STATUSES


def initial_champion(aggregate_id: str) -> ChampionState:
    return ChampionState(id=aggregate_id, country=aggregate_id.upper())


def evolve_champion(state: ChampionState, event: Event) -> ChampionState:
    match event:
        case ChampionNominated():
            return replace(
                state,
                exists=True,
                status=ChampionStatus.NOMINATED,
                regional_group=event.regional_group,
                assessment=tuple(event.assessment),
                existing_network_id=event.existing_network_id,
                nominated_on=event.occurred_on,
                confirmed_on=None,
                withdrawn_on=None,
                withdrawal_reason=None,
                history=(*state.history, (event.occurred_on, ChampionStatus.NOMINATED)),
            )
        case ChampionConfirmed():
            return replace(
                state,
                status=ChampionStatus.CONFIRMED,
                confirmed_on=event.occurred_on,
                history=(*state.history, (event.occurred_on, ChampionStatus.CONFIRMED)),
            )
        case ChampionWithdrawn():
            return replace(
                state,
                status=ChampionStatus.WITHDRAWN,
                withdrawn_on=event.occurred_on,
                withdrawal_reason=event.reason,
                history=(*state.history, (event.occurred_on, ChampionStatus.WITHDRAWN)),
            )
    return state


CHAMPION: AggregateType[ChampionState] = AggregateType(
    service=SERVICE, name="champion", initial=initial_champion, evolve=evolve_champion
)


# --- Champion deciders ----------------------------------------------------------------------


GEOGRAPHIC_BALANCE = "geographic-balance"


def _check_assessment(assessment: list[CriterionAssessment]) -> None:
    counts = Counter(a.criterion for a in assessment)
    if counts[GEOGRAPHIC_BALANCE]:
        raise Rejected(
            "geographic balance is a property of the whole set of champion countries, not of one nomination; "
            "leave it out of the assessment (list-champions shows the balance)",
            field="assessment",
        )
    if repeated := [c for c in reference.COUNTRY_CHAMPION_CRITERIA if counts[c] > 1]:
        raise Rejected(f"criteria assessed more than once: {', '.join(repeated)}", field="assessment")
    if missing := [c for c in reference.COUNTRY_CHAMPION_CRITERIA if counts[c] == 0]:
        raise Rejected(
            f"the assessment must cover the five criteria of a nomination (met, not met or not assessed); "
            f"missing: {', '.join(missing)}",
            field="assessment",
        )


def _check_country_and_group(country: str, group: str) -> None:
    name = _country_name(country)
    if country in reference.OBSERVER_STATES:
        raise Rejected(f"champion countries are member states; {name} is an observer state", field="country")
    if group not in reference.CHAMPION_GROUP_COUNTRIES:
        raise Rejected(f"{group!r} is not one of the FAQ's champion regional groups", field="regional_group")
    if country not in reference.CHAMPION_GROUP_COUNTRIES[group]:
        groups = reference.champion_groups_of(country)
        where = (
            f"it belongs to {' or '.join(groups)}"
            if groups
            else "it falls in none of the FAQ's six champion regional groups"
        )
        raise Rejected(f"{name} is not in the champion regional group {group}; {where}", field="regional_group")


def _champion_date(state: ChampionState, command: Command, today: date) -> date:
    on = event_date(command, today)
    if state.history and on < (last := state.history[-1][0]):
        raise Rejected(
            f"{_country_name(state.country)}'s champion status last changed on {last.isoformat()}; "
            f"a change on {on.isoformat()} would be recorded out of order",
            field="occurred_on",
        )
    return on


def nominate_champion(
    state: ChampionState,
    command: NominateChampion,
    today: date,
    *,
    national_network: NetworkState | None = None,
    **context: Any,
) -> list[Event]:
    """``national_network`` is the registry's network ``nat-<cc>`` for the country, existing or not."""
    country = _country_name(command.country)
    network = national_network or initial_network(national_network_id(command.country))
    if network.id != national_network_id(command.country):
        raise ValueError(f"nominate-champion for {command.country} was given network {network.id}")
    if state.is_active:
        assert state.status is not None  # is_active: the status is nominated or confirmed
        raise Rejected(f"{country} is already a champion country ({state.status.value})", field="country")
    _check_country_and_group(command.country, command.regional_group)
    _check_assessment(command.assessment)

    has_network = network.exists and network.status in EXISTING_STATUSES
    claim = next(a for a in command.assessment if a.criterion == EXISTING_NETWORK_CRITERION)
    if claim.met is True and not has_network and not claim.note:
        found = (
            f"its national network {network.id} is {_words(network.status)}"
            if network.exists and network.status is not None  # an existing network always has a status
            else "the registry has no national network for it"
        )
        raise Rejected(
            f"the assessment says {country} has an existing UN network on migration, but {found}; "
            f"name the similar UN coordination mechanism in the note of criterion {EXISTING_NETWORK_CRITERION}",
            field="assessment",
        )
    on = _champion_date(state, command, today)
    return [
        ChampionNominated(
            country=command.country,
            regional_group=command.regional_group,
            assessment=command.assessment,
            existing_network_id=network.id if has_network else None,
            occurred_on=on,
        )
    ]


def confirm_champion(state: ChampionState, command: ConfirmChampion, today: date, **context: Any) -> list[Event]:
    country = _country_name(command.country)
    if not state.exists:
        raise NotFound(f"{country} has not been nominated as a champion country", field="country")
    if state.status == ChampionStatus.CONFIRMED:
        raise Rejected(f"{country} is already a confirmed champion country", field="country")
    if state.status == ChampionStatus.WITHDRAWN:
        assert state.withdrawn_on is not None  # ChampionWithdrawn sets both
        raise Rejected(
            f"{country} withdrew as a champion country on {state.withdrawn_on.isoformat()}; nominate it again first",
            field="country",
        )
    # Nominations recorded before geographic balance became a property of the set still carry it.
    assessed = [a for a in state.assessment if a.criterion != GEOGRAPHIC_BALANCE]
    met = sum(1 for a in assessed if a.met is True)
    total = len(assessed)
    override = (command.override_reason or "").strip() or None
    if met < total and override is None:
        # The FAQ's criteria are what the Network applies: a shortfall is a deliberate, recorded decision.
        gaps = [
            f"{label}: {', '.join(codes)}"
            for label, codes in (
                ("not met", [a.criterion for a in assessed if a.met is False]),
                ("not assessed", [a.criterion for a in assessed if a.met is None]),
            )
            if codes
        ]
        raise Rejected(
            f"{country}'s nomination met {met} of the {total} criteria ({'; '.join(gaps)}); "
            "to confirm it anyway, give the reason in override_reason",
            field="override_reason",
        )
    on = _champion_date(state, command, today)
    return [ChampionConfirmed(country=command.country, criteria_met=met, override_reason=override, occurred_on=on)]


def withdraw_champion(state: ChampionState, command: WithdrawChampion, today: date, **context: Any) -> list[Event]:
    country = _country_name(command.country)
    if not state.exists:
        raise NotFound(f"{country} has not been nominated as a champion country", field="country")
    if state.status == ChampionStatus.WITHDRAWN:
        assert state.withdrawn_on is not None  # ChampionWithdrawn sets both
        raise Rejected(
            f"{country} already withdrew as a champion country on {state.withdrawn_on.isoformat()}", field="country"
        )
    if not (command.reason or "").strip():
        raise Rejected(f"say why {country} withdraws as a champion country", field="reason")
    on = _champion_date(state, command, today)
    return [ChampionWithdrawn(country=command.country, reason=command.reason, occurred_on=on)]
