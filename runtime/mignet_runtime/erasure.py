"""Erasing a data subject's personal data: the record first, then the keys (crypto-shredding).

Each service has an ``erase-personal-data`` command on the aggregate that holds the
data (a network's focal point, a contribution's contact). Its decider records a
``personal-data-erased`` event naming the data keys (``data_keys_of`` gives them to
it as context); :func:`shred` then erases those keys. The order makes a crash safe:
a resent command replays the recorded event, and :func:`shred` runs again.
Afterwards the events stay, their sealed fields read :data:`~mignet_contracts.fields.ERASED`,
and projections apply the erasure event like any other.

``<service>.admin.privacy.find`` answers which aggregates hold data about an e-mail
address, through the key store's index of keyed hashes; ``mignet privacy erase``
asks every service and erases what they name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mignet_contracts.envelope import CommandResult
from mignet_contracts.privacy import (
    FindPersonalData,
    ForgetActor,
    FoundPersonalData,
    FoundPersonalDataList,
    PersonalDataErasure,
)
from mignet_runtime.eventstore import EventStore

if TYPE_CHECKING:
    from mignet_runtime.service import Router


async def data_keys_of(store: EventStore, aggregate: str, aggregate_id: str) -> dict[str, Any]:
    """The decider's context for an erasure: the data keys still held for the aggregate."""
    keys = [] if store.keys is None else await store.keys.keys_of(aggregate, aggregate_id)
    return {"data_keys": keys}


async def shred(store: EventStore, result: CommandResult) -> None:
    """Erase the keys named by the erasure events this command wrote (or wrote before: a replay)."""
    if store.keys is None:
        return
    for ref in result.events:
        async for recorded in store.read(ref.subject, ref.seq - 1, ref.seq):
            if isinstance(recorded.event, PersonalDataErasure):
                await store.keys.erase(recorded.event.key_ids, recorded.event.aggregate, recorded.aggregate_id)


def privacy_routes(router: Router) -> None:
    runtime = router.runtime

    async def find(request: FindPersonalData) -> dict:
        keys = runtime.store.keys
        found = [] if keys is None else await keys.find(request.email)
        items = [FoundPersonalData(aggregate=a, aggregate_id=i) for a, i in found]
        return FoundPersonalDataList(items=items).model_dump(mode="json")

    async def forget_actor(request: ForgetActor) -> dict:
        keys = runtime.store.keys
        return {"forgotten": False if keys is None else await keys.forget_actor(request.actor)}

    router.admin("privacy.find", find)
    router.admin("privacy.forget-actor", forget_actor)
