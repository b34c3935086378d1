"""The notifier's rules: subscriptions as a pure decider (one module per aggregate).

Matching events to subscriptions is pure too (:mod:`.matching`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mignet_contracts import notifier as c
from mignet_contracts.envelope import Command, Event
from mignet_notifier.domain.subscription import (
    SUBSCRIPTION,
    SubscriptionState,
    create_subscription,
    delete_subscription,
    disable_subscription,
    erase_personal_data,
    evolve_subscription,
    initial_subscription,
    pause_subscription,
    resume_subscription,
    rotate_secret,
    update_filters,
)
from mignet_runtime.aggregate import AggregateType, named_id

__all__ = [
    "DECIDERS",
    "SUBSCRIPTION",
    "SubscriptionState",
    "erase_personal_data",
    "evolve_subscription",
    "initial_subscription",
    "target_of",
]

Decide = Callable[..., list[Event]]

DECIDERS: dict[type[Command], tuple[AggregateType[Any], Decide]] = {
    c.CreateSubscription: (SUBSCRIPTION, create_subscription),
    c.PauseSubscription: (SUBSCRIPTION, pause_subscription),
    c.ResumeSubscription: (SUBSCRIPTION, resume_subscription),
    c.DisableSubscription: (SUBSCRIPTION, disable_subscription),
    c.UpdateSubscriptionFilters: (SUBSCRIPTION, update_filters),
    c.RotateSubscriptionSecret: (SUBSCRIPTION, rotate_secret),
    c.DeleteSubscription: (SUBSCRIPTION, delete_subscription),
    c.ErasePersonalData: (SUBSCRIPTION, erase_personal_data),
}


def target_of(command: Command) -> tuple[AggregateType[Any], str]:
    return SUBSCRIPTION, named_id(command, "subscription_id")
