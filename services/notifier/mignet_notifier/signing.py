"""Webhook secrets and Standard Webhooks signatures.

A subscription's secret is never stored: it is ``whsec_`` + base64 of
HMAC-SHA256(``MIGNET_NOTIFIER_SECRET_KEY``, ``<subscription id>/<secret version>``),
so it is the same in every replica and after every restart, and shows nowhere but in
the replies to create and rotate-secret. Signing uses the ``standardwebhooks`` package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from standardwebhooks import Webhook


def secret_for(key: bytes, subscription_id: str, version: int) -> str:
    raw = hmac.new(key, f"{subscription_id}/{version}".encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(raw).decode()


def signing_secrets(key: bytes, subscription: dict, now: datetime) -> list[str]:
    """The current secret, and the previous one while the rotation's overlap lasts."""
    version = int(subscription.get("secret_version") or 1)
    secrets = [secret_for(key, subscription["subscription_id"], version)]
    until = subscription.get("previous_valid_until")
    if version > 1 and until is not None and now < until:
        secrets.append(secret_for(key, subscription["subscription_id"], version - 1))
    return secrets


def headers(secrets: list[str], webhook_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    signatures = " ".join(Webhook(s).sign(webhook_id, timestamp, body) for s in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/cloudevents+json",
    }
