"""Aligning a network's terms of reference with the global Network's (part of the network aggregate).

The FAQ (section 4) *encourages* existing UN migration fora to align their terms
of reference and working arrangements with the global ones, "with the agreement
of all entities concerned, and in consultation with the Executive Committee
members and the Network Coordinator". Guidance, not an obligation: an alignment
is recorded with who agreed and who was consulted, and what is missing is
flagged in the event (``not_agreed``, ``not_consulted``) rather than refused.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from mignet_contracts import reference
from mignet_contracts.envelope import Event
from mignet_contracts.registry import AlignTermsOfReference, NetworkScope, NetworkTermsOfReferenceAligned
from mignet_registry.domain.network import NetworkState, describe_network, existing_network, not_before_creation
from mignet_runtime.aggregate import event_date
from mignet_runtime.errors import Rejected

EXECUTIVE_COMMITTEE = reference.EXECUTIVE_COMMITTEE  # the Network Coordinator, IOM, is one of them


def _no_repeats(values: list[str], field: str) -> None:
    if repeated := sorted(e for e, n in Counter(values).items() if n > 1):
        raise Rejected(f"listed more than once: {', '.join(repeated)}", field=field)


def _consulted(command: AlignTermsOfReference) -> list[str]:
    consulted = list(command.consulted)
    _no_repeats(consulted, "consulted")
    if strangers := [e for e in consulted if e not in EXECUTIVE_COMMITTEE]:
        raise Rejected(
            f"the FAQ asks to consult the Executive Committee members and the Network Coordinator; "
            f"{', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} not among them",
            field="consulted",
        )
    whole = set(consulted) >= set(EXECUTIVE_COMMITTEE)
    if command.consulted_executive_committee and consulted and not whole:
        raise Rejected(
            "consulted_executive_committee says the whole Executive Committee was consulted, "
            "but consulted lists only some of its members",
            field="consulted",
        )
    if command.consulted_executive_committee and not consulted:
        return list(EXECUTIVE_COMMITTEE)  # the earlier form of the command: the whole committee
    return consulted


def align_terms_of_reference(
    state: NetworkState, command: AlignTermsOfReference, today: date, **context: Any
) -> list[Event]:
    existing_network(state)
    if state.scope == NetworkScope.GLOBAL:
        raise Rejected("the global Network's terms of reference are the ones others align with", field="network_id")
    aligned_on = command.aligned_on
    if aligned_on > today:
        raise Rejected(
            f"terms of reference cannot be aligned on {aligned_on.isoformat()}, a date in the future "
            f"(today is {today.isoformat()})",
            field="aligned_on",
        )
    # A forum that aligned before it was registered should be back-dated at creation instead.
    not_before_creation(state, aligned_on, "aligning the terms of reference", "aligned_on")
    if state.tor_aligned_on and aligned_on <= state.tor_aligned_on:
        raise Rejected(
            f"{describe_network(state)} already aligned its terms of reference on {state.tor_aligned_on.isoformat()}; "
            "only a later re-alignment can be recorded",
            field="aligned_on",
        )
    agreed_by = list(command.agreed_by)
    _no_repeats(agreed_by, "agreed_by")
    if outsiders := [e for e in agreed_by if e not in state.members]:
        raise Rejected(
            f"the entities concerned are the network's members; {', '.join(outsiders)} "
            f"{'is' if len(outsiders) == 1 else 'are'} not a member of {describe_network(state)}",
            field="agreed_by",
        )
    consulted = _consulted(command)
    on = event_date(command, today, default=aligned_on)
    return [
        NetworkTermsOfReferenceAligned(
            network_id=state.id,
            aligned_on=aligned_on,
            note=command.note,
            agreed_by=agreed_by,
            consulted=consulted,
            not_agreed=[e for e in state.members if e not in agreed_by],
            not_consulted=[e for e in EXECUTIVE_COMMITTEE if e not in consulted],
            occurred_on=on,
        )
    ]
