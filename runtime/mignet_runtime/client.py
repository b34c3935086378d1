"""A small request-reply client for mignet's commands, queries and admin requests.

Used by the CLI, the seed loader, tests and benchmarks; integrators may use it too.
"""

from __future__ import annotations

import json
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS

from mignet_contracts.envelope import Command, CommandResult, Contract, ErrorBody, Query, Reply
from mignet_runtime.admin import admin_subject


class RequestFailed(Exception):
    def __init__(self, error: ErrorBody):
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


class MignetClient:
    def __init__(self, nc: NATS, timeout: float = 10.0):
        self.nc = nc
        self.timeout = timeout

    async def request(self, subject: str, payload: Contract | dict | bytes) -> Reply:
        if isinstance(payload, Contract):
            data = payload.model_dump_json(exclude_none=False).encode()
        elif isinstance(payload, dict):
            data = json.dumps(payload).encode()
        else:
            data = payload
        try:
            # No headers: the body is JSON by contract, and every header costs a parse on both sides.
            msg = await self.nc.request(subject, data, timeout=self.timeout)
        except nats.errors.NoRespondersError:
            return Reply(ok=False, error=ErrorBody(
                code="unavailable", message=f"nothing answers on {subject}: is the service running?"))
        except nats.errors.TimeoutError:
            return Reply(ok=False, error=ErrorBody(
                code="unavailable", message=f"no answer on {subject} within {self.timeout:.0f}s"))
        return Reply.model_validate_json(msg.data)

    @staticmethod
    def _unwrap(reply: Reply) -> Any:
        if not reply.ok:
            raise RequestFailed(reply.error)
        return reply.result

    async def command(self, command: Command) -> CommandResult:
        return CommandResult.model_validate(self._unwrap(await self.request(command.subject(), command)))

    async def query(self, query: Query) -> Any:
        return self._unwrap(await self.request(query.subject(), query))

    async def admin(self, service: str, name: str, body: dict | None = None) -> Any:
        return self._unwrap(await self.request(admin_subject(service, name), body or {}))
