"""Command handling: the SSRF check a webhook URL needs, the shared dispatch, and the secret in the reply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mignet_contracts import notifier as c
from mignet_contracts.envelope import Command
from mignet_notifier import deliveries, domain, ssrf
from mignet_notifier.config import NotifierConfig
from mignet_notifier.signing import secret_for
from mignet_runtime.commands import CommandExecutor
from mignet_runtime.dispatch import dispatch
from mignet_runtime.erasure import data_keys_of, shred
from mignet_runtime.errors import NotFound, Rejected, ValidationFailed


async def context_for(executor: CommandExecutor, command: Command) -> dict[str, Any]:
    if isinstance(command, c.RotateSubscriptionSecret):
        return {"now": datetime.now(UTC)}
    if isinstance(command, c.ErasePersonalData):
        return await data_keys_of(executor.store, domain.SUBSCRIPTION.name, command.subscription_id)
    return {}


async def handle(executor: CommandExecutor, command: Command, config: NotifierConfig) -> dict:
    if isinstance(command, c.CreateSubscription) and command.url is not None:
        try:
            await ssrf.check(command.url, config.allow_private)
        except ssrf.Refused as exc:
            raise ValidationFailed(str(exc), field="url") from None
    result = await dispatch(executor, command, domain.DECIDERS, domain.target_of, context_for)
    if isinstance(command, c.ErasePersonalData):
        await shred(executor.store, result)  # after the record: a resend replays it and shreds again
    reply = result.model_dump(mode="json")
    if isinstance(command, (c.CreateSubscription, c.RotateSubscriptionSecret)):
        # Shown here and nowhere else; derived, so a resend of the same command shows it again.
        state = (await executor.load(domain.SUBSCRIPTION, result.aggregate_id)).state
        if state.secret_version:
            reply["secret"] = secret_for(config.secret_key, state.id, state.secret_version)
    return reply


async def retry(db, command: c.RetryDeliveries) -> dict:
    if command.delivery_id is not None:
        doc = await deliveries.collection(db).find_one({"_id": command.delivery_id}, {"status": 1})
        if doc is None:
            raise NotFound(f"there is no delivery {command.delivery_id}", field="delivery_id")
        if doc["status"] != str(c.DeliveryStatus.PARKED):
            raise Rejected(f"delivery {command.delivery_id} is {doc['status']}: only parked deliveries are retried")
        count = await deliveries.retry_parked(db, {"_id": command.delivery_id})
    else:
        count = await deliveries.retry_parked(db, {"subscription_id": command.subscription_id})
    return {"retried": count}
