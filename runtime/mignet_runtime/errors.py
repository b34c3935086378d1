"""Errors that cross the service boundary as structured replies.

Domain code raises these; the command bus turns them into
``{"ok": false, "error": {"code", "message", "details"}}`` and writes nothing.
"""

from __future__ import annotations

from mignet_contracts.envelope import ErrorBody, ErrorDetail


class MignetError(Exception):
    code = "internal"

    def __init__(self, message: str, details: list[ErrorDetail] | None = None, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        if field is not None:
            self.details.append(ErrorDetail(field=field, message=message))

    def body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message, details=self.details)


class ValidationFailed(MignetError):
    """The input is malformed: wrong types, unknown codes, missing fields."""

    code = "validation_error"


class Rejected(MignetError):
    """The input is well formed but a business rule forbids it."""

    code = "rejected"


class NotFound(MignetError):
    code = "not_found"


class Conflict(MignetError):
    """A concurrent change won; the caller may retry against fresh state."""

    code = "conflict"


class Unavailable(MignetError):
    """A dependency (NATS, MongoDB) did not answer in time."""

    code = "unavailable"
