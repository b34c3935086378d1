"""Events to NATS messages and back: CloudEvents binary mode over NATS headers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from mignet_contracts import catalog, cloudevents
from mignet_contracts import envelope as ce
from mignet_contracts.envelope import Event
from mignet_contracts.fields import UNREADABLE_OK
from mignet_contracts.privacy import PersonalDataErasure
from mignet_runtime import personal


@dataclass(frozen=True)
class Metadata:
    """Who and what caused an append; copied onto every event it writes."""

    command_id: str
    actor: str
    correlation_id: str | None = None
    causation_id: str | None = None
    #: The command's schema name and payload hash (``Command.payload_hash``): what the id was used for.
    command_name: str | None = None
    command_hash: str | None = None
    #: The keyed hash (``Command.payload_hmac``), written instead of ``command_hash`` when the service has one.
    command_hmac: str | None = None
    #: The W3C trace context the events are written under (``ce-traceparent``, ``ce-tracestate``).
    traceparent: str | None = None
    tracestate: str | None = None


@dataclass(frozen=True)
class RecordedEvent:
    seq: int
    subject: str
    event: Event
    event_id: str
    recorded_at: datetime
    command_id: str | None
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    #: None on events recorded before commands' names and hashes were (see ``Metadata``).
    command_name: str | None = None
    command_hash: str | None = None
    command_hmac: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def aggregate_id(self) -> str:
        return self.event.aggregate_id

    @property
    def type(self) -> str:
        return self.event.ce_type()


class UnknownEventType(LookupError):
    """A subject names an event this build does not know (newer producer); consumers skip it."""


class MalformedEvent(ValueError):
    """A known event type whose payload does not match its contract."""


class EventCodec:
    def __init__(self, event_classes: Iterable[type[Event]]):
        self._by_key: dict[tuple[str, str, str], type[Event]] = {}
        for cls in event_classes:
            key = (cls.service, cls.aggregate, cls.name)
            if key in self._by_key:
                raise ValueError(f"two event classes for {'.'.join(key)}")
            self._by_key[key] = cls
        # Reading picks the class by ce-type (v1 and v2 of an event share a subject), earlier versions included.
        self._by_type = {cls.ce_type(): cls for cls in catalog.readable(self._by_key.values())}
        # Per class, the headers that never change (built once: encode runs on every append).
        self._fixed: dict[type[Event], dict[str, str]] = {}

    @property
    def event_classes(self) -> tuple[type[Event], ...]:
        return tuple(self._by_key.values())

    def _fixed_headers(self, cls: type[Event]) -> dict[str, str]:
        fixed = self._fixed.get(cls)
        if fixed is None:
            fixed = self._fixed[cls] = {
                ce.H_SPECVERSION: ce.SPEC_VERSION,
                ce.H_TYPE: cls.ce_type(),
                ce.H_SOURCE: f"/mignet/{cls.service}",
                ce.H_DATASCHEMA: cls.dataschema(),
                ce.H_DATACONTENTTYPE: "application/json",
                ce.H_CONTENT_TYPE: "application/json",
            }
        return fixed

    def encode(
        self, event: Event, meta: Metadata, keys: personal.KeySource | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Headers and payload; personal fields sealed with the key ``keys`` holds (``KeyRing.prepare`` first)."""
        fixed = self._fixed_headers(type(event))
        # Same header order as ever (specversion, id, type, source, subject, time, dataschema, ...).
        headers = {
            ce.H_SPECVERSION: fixed[ce.H_SPECVERSION],
            ce.H_ID: uuid.uuid4().hex,
            ce.H_TYPE: fixed[ce.H_TYPE],
            ce.H_SOURCE: fixed[ce.H_SOURCE],
            ce.H_SUBJECT: event.aggregate_id,
            ce.H_TIME: datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            ce.H_DATASCHEMA: fixed[ce.H_DATASCHEMA],
            ce.H_DATACONTENTTYPE: fixed[ce.H_DATACONTENTTYPE],
            ce.H_CONTENT_TYPE: fixed[ce.H_CONTENT_TYPE],
            ce.H_COMMAND: meta.command_id,
            ce.H_ACTOR: meta.actor,
            ce.H_CORRELATION: meta.correlation_id or meta.command_id,
        }
        if meta.causation_id:
            headers[ce.H_CAUSATION] = meta.causation_id
        if meta.command_name:
            headers[ce.H_COMMAND_NAME] = meta.command_name
        if meta.command_hash:
            headers[ce.H_COMMAND_HASH] = meta.command_hash
        if meta.command_hmac:
            headers[ce.H_COMMAND_HMAC] = meta.command_hmac
        if meta.traceparent:
            headers[ce.H_TRACEPARENT] = meta.traceparent
            if meta.tracestate:
                headers[ce.H_TRACESTATE] = meta.tracestate
        headers = cloudevents.encode_headers(headers)
        if personal.plan_for(type(event)):
            if keys is None:
                raise ValueError(f"{event.subject} holds personal data: its event store needs a key store")
            key_id = personal.key_id_for(event, meta.command_id)
            key = keys.key(key_id)
            if key is None:
                raise ValueError(f"data key {key_id} is erased: nothing may be written with it")
            headers[personal.H_DATA_KEY] = key_id
            return headers, personal.seal(event, key_id, key)
        return headers, event.model_dump_json().encode()

    def event_class(self, subject: str) -> type[Event]:
        # <service>.events.<aggregate>.<id>.<name>
        parts = subject.split(".")
        if len(parts) != 5 or parts[1] != "events":
            raise UnknownEventType(subject)
        cls = self._by_key.get((parts[0], parts[2], parts[4]))
        if cls is None:
            raise UnknownEventType(subject)
        return cls

    def decode(
        self,
        seq: int,
        subject: str,
        headers: Mapping[str, str] | None,
        data: bytes,
        keys: personal.KeySource | None = None,
    ) -> RecordedEvent:
        """The event, upcast to its current version after its sealed personal fields are opened with
        ``keys`` (loaded first; without them they read as withheld)."""
        headers = cloudevents.decode_headers(headers)
        ce_type = headers.get(ce.H_TYPE)
        if ce_type:
            cls = self._by_type.get(ce_type)
            if cls is None:  # a version this build does not know (newer): skipped like an unknown type
                raise UnknownEventType(f"{subject} ({ce_type})")
        else:
            cls = self.event_class(subject)
        try:
            if personal.data_key_of(headers):
                payload = personal.open_payload(cls, data, keys)
                event = cls.model_validate(payload, context={UNREADABLE_OK: True})
            else:
                # Parsed and validated in one pass by pydantic-core, the inverse of encode's model_dump_json.
                event = cls.model_validate_json(data)
            # An earlier version is upcast to the current one, its personal fields already open.
            event = catalog.upcast(event)
        except (ValueError, ValidationError) as exc:
            raise MalformedEvent(f"{subject} #{seq}: {_without_input(exc)}") from exc
        if isinstance(event, PersonalDataErasure) and hasattr(keys, "forget"):
            keys.forget(event.key_ids)  # this replica's cache must not outlive the erasure
        return RecordedEvent(
            seq=seq,
            subject=subject,
            event=event,
            event_id=headers.get(ce.H_ID, f"seq-{seq}"),
            recorded_at=recorded_at(headers),
            command_id=headers.get(ce.H_COMMAND),
            actor=headers.get(ce.H_ACTOR),
            correlation_id=headers.get(ce.H_CORRELATION),
            causation_id=headers.get(ce.H_CAUSATION),
            command_name=headers.get(ce.H_COMMAND_NAME),
            command_hash=headers.get(ce.H_COMMAND_HASH),
            command_hmac=headers.get(ce.H_COMMAND_HMAC),
            traceparent=headers.get(ce.H_TRACEPARENT),
            tracestate=headers.get(ce.H_TRACESTATE),
        )


def _without_input(exc: Exception) -> str:
    """What was wrong, never the input itself (it may hold personal data)."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors(include_input=False)
        )
    return f"not JSON ({type(exc).__name__})"


def recorded_at(headers: Mapping[str, str]) -> datetime:
    """When an event was recorded: its ``ce-time``, else the server's stamp."""
    return parse_time(headers.get(ce.H_TIME) or headers.get("Nats-Time-Stamp"))


def parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    # NATS stamps carry nanoseconds, which fromisoformat does not take.
    value = value.replace("Z", "+00:00")
    head, sep, tail = value.partition(".")
    if sep:
        # Only the leading digits are the fraction: the zone's digits ("+00:00") are not.
        digits = "".join(itertools.takewhile(str.isdigit, tail))
        zone = tail[len(digits) :]
        value = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(value)
