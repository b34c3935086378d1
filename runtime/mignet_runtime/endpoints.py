"""Request-reply endpoints: bytes in, a validated contract to the handler, a Reply out.

Every failure becomes a structured reply (``code``, ``message``, per-field
``details``); nothing is written when validation or a rule fails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mignet_contracts.envelope import Contract, ErrorBody, ErrorDetail, Reply
from mignet_runtime.errors import MignetError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Contract)
#: A request larger than this is refused before parsing.
MAX_REQUEST_BYTES = 256 * 1024


def validation_error(exc: ValidationError) -> ErrorBody:
    details = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error.get("loc", ()))
        message = error.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        details.append(ErrorDetail(field=location or None, message=message))
    summary = "; ".join(f"{d.field}: {d.message}" if d.field else d.message for d in details[:5])
    return ErrorBody(code="validation_error", message=f"invalid request: {summary}", details=details)


async def answer(model: type[M], body: bytes, handler: Callable[[M], Awaitable[Any]]) -> bytes:
    try:
        if len(body) > MAX_REQUEST_BYTES:
            return _error(ErrorBody(code="validation_error", message=f"request over {MAX_REQUEST_BYTES} bytes"))
        request = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        return _error(validation_error(exc))
    try:
        result = await handler(request)
    except MignetError as exc:
        if exc.code in ("conflict", "unavailable", "internal"):
            log.warning("%s failed: %s", model.__name__, exc.message)
        return _error(exc.body())
    except ValidationError as exc:  # a domain-built event refused a value
        return _error(validation_error(exc))
    except Exception:
        log.exception("%s failed unexpectedly", model.__name__)
        return _error(ErrorBody(code="internal", message="internal error; the service log has the details"))
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return Reply(ok=True, result=result).model_dump_json().encode()


def _error(body: ErrorBody) -> bytes:
    return Reply(ok=False, error=body).model_dump_json().encode()


def decode_reply(data: bytes) -> Reply:
    return Reply.model_validate(json.loads(data))
