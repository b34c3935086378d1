"""Personal fields in events: sealed with their data subject's key on append, opened on read.

A contract marks a field with :class:`mignet_contracts.fields.Personal`; this module
finds the marked fields of an event class (nested contracts included), replaces each
value by ``mignet-enc:v1:<key id>:<base64url(nonce | AES-256-GCM ciphertext)>`` before
the payload is written, and puts the plain value back when it is read. The key id
is ``<aggregate>.<aggregate id>.<command id>``: all the personal data one command
writes shares one key, the data subject's, and the key id is also in the event's
``Mignet-Data-Key`` header, so a reader can fetch the key before it decodes.
The associated data binds each ciphertext to its key id and field path: a value
moved to another field or event does not open.

Pure (no I/O): the keys come from a :class:`KeySource` (``keystore.KeyRing``), which
the event store fills before it calls the codec. Values written before this module
existed are plain strings and are read as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from mignet_contracts.envelope import Event
from mignet_contracts.fields import ERASED, WITHHELD, Personal, personal_fields

log = logging.getLogger(__name__)

PREFIX = "mignet-enc:v1:"
#: Header naming the data key that sealed the event's personal fields.
H_DATA_KEY = "Mignet-Data-Key"
NONCE_BYTES = 12
KEY_BYTES = 32
#: Hex digits kept of a lookup HMAC-SHA256: 128 bits.
LOOKUP_HEX_DIGITS = 32

#: Per model: field name -> its Personal mark, or the plan of a nested model holding personal fields.
Plan = dict[str, "Personal | Plan"]
_PLANS: dict[type, Plan] = {}


class KeySource(Protocol):
    def key(self, key_id: str) -> bytes | None:
        """The key's bytes; None once it is erased. Raises LookupError when it was never loaded."""
        ...


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * KEY_BYTES)


def key_id_for(event: Event, command_id: str) -> str:
    return f"{event.aggregate}.{event.aggregate_id}.{command_id}"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def plan_for(model: type[BaseModel]) -> Plan:
    """The personal fields of ``model`` (cached); empty when it has none."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = {}
        marks = personal_fields(model)
        for name, info in model.model_fields.items():
            if name in marks:
                plan[name] = marks[name]
                continue
            if typing.get_origin(info.annotation) in (list, tuple, set, frozenset, dict):
                inner = [m for arg in typing.get_args(info.annotation) for m in _models_in(arg)]
                if any(plan_for(m) for m in inner):
                    raise TypeError(f"{model.__name__}.{name}: personal fields inside collections are not supported")
                continue
            nested = [sub for m in _models_in(info.annotation) if (sub := plan_for(m))]
            if len(nested) > 1:
                raise TypeError(f"{model.__name__}.{name}: personal fields in a union of models are not supported")
            if nested:
                plan[name] = nested[0]
        _PLANS[model] = plan
    return plan


def _aad(key_id: str, path: str) -> bytes:
    return f"{key_id}|{path}".encode()


def _seal_value(value: str, key_id: str, key: bytes, path: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), _aad(key_id, path))
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def _open_value(value: str, keys: KeySource | None, path: str) -> str:
    key_id, _, token = value[len(PREFIX) :].partition(":")
    if keys is None:
        return WITHHELD
    key = keys.key(key_id)
    if key is None:
        return ERASED
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(key_id, path)).decode()
    except InvalidTag:
        # Tampered, or moved from another field: unreadable, like an erased value (never the value itself).
        log.warning("personal field %s sealed with key %s does not authenticate; read as erased", path, key_id)
        return ERASED


def _walk(payload: dict, plan: Plan, change, path: str = "") -> dict:
    out = dict(payload)
    for name, step in plan.items():
        value = out.get(name)
        where = f"{path}{name}"
        if isinstance(step, Personal):
            if isinstance(value, str):
                out[name] = change(value, where)
        elif isinstance(value, dict):
            out[name] = _walk(value, step, change, where + ".")
    return out


def seal(event: Event, key_id: str, key: bytes) -> bytes:
    """The event's JSON payload with every personal value sealed under ``key``."""
    payload = event.model_dump(mode="json")
    sealed = _walk(payload, plan_for(type(event)), lambda value, path: _seal_value(value, key_id, key, path))
    return json.dumps(sealed, separators=(",", ":"), ensure_ascii=False).encode()


def open_payload(model: type[BaseModel], data: bytes, keys: KeySource | None) -> dict:
    """The payload with sealed values opened: plain, :data:`ERASED` (key gone) or :data:`WITHHELD` (no keys)."""

    def opened(value: str, path: str) -> str:
        return _open_value(value, keys, path) if value.startswith(PREFIX) else value

    return _walk(json.loads(data), plan_for(model), opened)


def data_key_of(headers: Mapping[str, str] | None) -> str | None:
    return (headers or {}).get(H_DATA_KEY)


def lookup_values(event: Event) -> list[str]:
    """The values of the event's personal fields marked ``lookup`` (e-mail addresses), nested included."""
    found: list[str] = []

    def collect(value: str, path: str) -> str:
        found.append(value)
        return value

    def lookups(plan: Plan) -> Plan:
        out: Plan = {}
        for name, step in plan.items():
            if isinstance(step, Personal):
                if step.lookup:
                    out[name] = step
            elif sub := lookups(step):
                out[name] = sub
        return out

    _walk(event.model_dump(mode="json"), lookups(plan_for(type(event))), collect)
    return found


def lookup_hash(secret: bytes, value: str) -> str:
    """The keyed hash the erasure index keeps of a look-up value (addresses compared case-insensitively)."""
    digest = hmac.new(secret, value.strip().lower().encode(), hashlib.sha256).hexdigest()
    return digest[:LOOKUP_HEX_DIGITS]
