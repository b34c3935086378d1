"""Checks every reviews aggregate shares."""

from __future__ import annotations

from datetime import date
from typing import Any

from mignet_contracts.envelope import Command
from mignet_runtime.errors import Rejected


def in_order(history: tuple[tuple[date, Any], ...], on: date, what: str) -> None:
    # Point-in-time queries replay by business date; out-of-order history would contradict itself.
    if history and on < (last := history[-1][0]):
        raise Rejected(
            f"{what} last changed status on {last.isoformat()}; a change dated {on.isoformat()} "
            "would be recorded out of order",
            field="occurred_on",
        )


def same_aggregate(state_id: str, command_id: str, command: Command) -> None:
    if state_id != command_id:
        # The handler loaded the wrong aggregate; "one review per region and cycle" would no longer hold.
        raise ValueError(f"{command.name} for {command_id} was decided against aggregate {state_id}")
