"""MongoDB with authentication, as a service sees it: waiting for it at start, and saying why it refuses.

Each service connects with a user of its own (``MONGODB_URL=mongodb://<service>:<password>@host/?authSource=admin``)
that may read and write its own database only. A wrong password does not make MongoDB unreachable: the
server answers, and refuses every command on an authenticated connection (``AuthenticationFailed``, code
18); a command on another service's database is refused with ``Unauthorized`` (code 13). Both are told
apart from an outage here, in words that name the fix and never the password.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError, ServerSelectionTimeoutError

from mignet_runtime.outages import describe
from mignet_runtime.settings import Settings, redact_url

log = logging.getLogger(__name__)

AUTHENTICATION_FAILED = 18
UNAUTHORIZED = 13
_AUTH_REFUSED = (
    "MongoDB refused the credentials in MONGODB_URL (AuthenticationFailed, code 18): check its user, password"
    " and authSource"
)


def refusal(exc: BaseException) -> str | None:
    """What MongoDB refused and what to check, when ``exc`` is a refusal of the credentials or rights; else None."""
    if isinstance(exc, ServerSelectionTimeoutError) and "AuthenticationFailed" in str(exc):
        # After a refused login PyMongo marks the server unknown; later attempts time out selecting it, and
        # the refusal survives only in the message (the server's error document, quoted).
        return _AUTH_REFUSED
    if not isinstance(exc, OperationFailure):
        return None
    if exc.code == AUTHENTICATION_FAILED:
        return _AUTH_REFUSED
    if exc.code == UNAUTHORIZED:
        reason = str((exc.details or {}).get("errmsg") or "not authorized")
        return f"MongoDB refused this user a command ({reason}; Unauthorized, code 13): check the user's roles"
    return None


def explain(exc: BaseException) -> str:
    """One line for a log or a readiness check: a refusal in plain words, else the error's type and reason."""
    return refusal(exc) or describe(exc)


async def wait_for_mongodb(
    settings: Settings, report: Callable[[str | None], None] | None = None, deadline: float | None = None
) -> None:
    """Until MongoDB answers a ``ping`` on an authenticated connection, or ``MIGNET_STARTUP_TIMEOUT`` passes.

    ``report`` hears the current reason for waiting (readiness shows it), and None once it answers.
    A refusal of the credentials is logged once as an ERROR and waited out like an outage: the user
    may be created, or its password set, a moment later (a first start, a rotation done in the wrong
    order)."""
    where = redact_url(settings.mongodb_url)
    if deadline is None:  # else the start-up's own, shared with the wait for NATS (time.monotonic())
        deadline = time.monotonic() + settings.startup_timeout
    refused_before = False
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb_url, serverSelectionTimeoutMS=2000)
    try:
        while True:
            try:
                await client.admin.command("ping")
                if report is not None:
                    report(None)  # answered: whatever the start waits for next, it is not MongoDB
                return
            except PyMongoError as exc:
                reason = explain(exc)
                if time.monotonic() > deadline:
                    if refusal(exc) is None:
                        reason = f"MongoDB at {where} did not answer within {settings.startup_timeout}s: {reason}"
                    else:
                        reason = f"{reason} (at {where}, for {settings.startup_timeout}s)"
                    raise SystemExit(reason) from None
                if report is not None:
                    report(f"waiting for MongoDB at {where}: {reason}")
                if refusal(exc) is None:
                    log.warning("waiting for MongoDB at %s (%s)", where, type(exc).__name__)
                elif not refused_before:
                    refused_before = True
                    log.error(
                        "%s (at %s); waiting up to %ss for it to be fixed", reason, where, settings.startup_timeout
                    )
                await asyncio.sleep(1)
    finally:
        await client.close()
