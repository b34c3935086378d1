"""The shape every mignet message shares: events, commands, replies and headers.

Events travel in CloudEvents *binary mode* over NATS: the CloudEvents
attributes are ``ce-`` headers and the payload is the event's own JSON.
Commands and queries are NATS request-reply messages whose reply is a
:class:`Reply`: either ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": {...}}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mignet_contracts.fields import personal_fields

SPEC_VERSION = "1.0"
#: Reverse-DNS prefix of every CloudEvents ``type`` mignet publishes.
CE_TYPE_PREFIX = "int.un-migration.mignet"
#: Where the JSON Schemas are published; ``ce-dataschema`` points here.
SCHEMA_BASE_URI = "https://mignet.un-migration.int/schemas"

# CloudEvents binary-mode headers (NATS protocol binding) and mignet extensions; values are
# percent-encoded on the wire (mignet_contracts.cloudevents).
H_ID = "ce-id"
H_TYPE = "ce-type"
H_SOURCE = "ce-source"
H_SUBJECT = "ce-subject"
H_TIME = "ce-time"
H_SPECVERSION = "ce-specversion"
H_DATASCHEMA = "ce-dataschema"
H_DATACONTENTTYPE = "ce-datacontenttype"
#: Sent beside ``ce-datacontenttype`` for clients that read the generic header.
H_CONTENT_TYPE = "content-type"
H_CORRELATION = "ce-correlationid"
H_CAUSATION = "ce-causationid"
H_ACTOR = "ce-actor"
#: The command that produced the event; also the JetStream de-duplication key.
H_COMMAND = "ce-commandid"
#: That command's name and version (its JSON Schema's name), so a refused reuse of its id can name it.
H_COMMAND_NAME = "ce-commandname"
#: That command's :meth:`Command.payload_hash`: a reused id with another payload is refused, not replayed.
H_COMMAND_HASH = "ce-commandhash"
#: The same, keyed: :meth:`Command.payload_hmac` with the service's own secret. Written instead of
#: ``ce-commandhash`` by services with a key store, so a payload cannot be confirmed by guessing.
H_COMMAND_HMAC = "ce-commandhmac"
#: The CloudEvents distributed-tracing extension: the W3C trace context of the command that wrote the event.
H_TRACEPARENT = "ce-traceparent"
H_TRACESTATE = "ce-tracestate"

# Subject tokens may not hold '.', '*', '>' or white space; ids keep to this.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Actor = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]


def new_id() -> str:
    return uuid.uuid4().hex


def is_identifier(value: str) -> bool:
    return bool(_ID_RE.match(value))


class Contract(BaseModel):
    """Strict, immutable base: unknown fields are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def __repr_args__(self):
        # Fields marked Personal never show in a repr (nor in the logs and errors built from one).
        hidden = personal_fields(type(self))
        return [(name, value) for name, value in super().__repr_args__() if name not in hidden]


class Event(Contract):
    """A fact recorded in a service's stream.

    Subclasses set the class variables; ``aggregate_id`` names the field that
    holds the id of the aggregate the event belongs to.

    Unlike commands, an event accepts fields it does not know and drops them: a
    later v1 may add an optional field (contracts/README.md, "Versioning"), and an
    older reader must still read it. Its JSON Schema is open in the same way.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    service: ClassVar[str]
    aggregate: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1
    id_field: ClassVar[str]
    #: Whether the event may be shown to the public (feeds, public pages).
    public: ClassVar[bool] = True

    occurred_on: date = Field(
        description="When it happened in the world (business date). Defaults to the day it was recorded; "
        "seed data and back-filled history set it explicitly. Point-in-time queries use it."
    )

    @property
    def aggregate_id(self) -> str:
        return getattr(self, self.id_field)

    @classmethod
    def ce_type(cls) -> str:
        return f"{CE_TYPE_PREFIX}.{cls.service}.{cls.aggregate}.{cls.name}.v{cls.version}"

    @classmethod
    def schema_name(cls) -> str:
        return f"{cls.service}.{cls.aggregate}.{cls.name}.v{cls.version}"

    @classmethod
    def dataschema(cls) -> str:
        return f"{SCHEMA_BASE_URI}/events/{cls.schema_name()}.json"

    @classmethod
    def subject_for(cls, aggregate_id: str) -> str:
        return f"{cls.service}.events.{cls.aggregate}.{aggregate_id}.{cls.name}"

    @property
    def subject(self) -> str:
        return self.subject_for(self.aggregate_id)


#: Fields of every command that say who asks and how to de-duplicate, not what is asked.
ENVELOPE_FIELDS = frozenset({"command_id", "actor", "correlation_id"})
#: Hex digits kept of the SHA-256: 128 bits, far beyond any chance collision, half the header.
PAYLOAD_HASH_HEX_DIGITS = 32
#: Built once: json.dumps with options builds an encoder per call, and this runs on every command.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Command(Contract):
    """A request to change state, sent as NATS request-reply.

    ``command_id`` makes a command idempotent: sending the same command twice
    writes nothing new and returns the first result. It is required, never
    generated by the service: an id made up on arrival would turn every resend
    into a second change. Reusing an id for a different command is refused
    (``conflict``), whichever aggregate it targets.
    """

    service: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1

    command_id: Identifier = Field(
        description="Client-chosen id, unique per command; a retry of the same command reuses it, "
        "a different command with a used id is refused."
    )
    actor: Actor = Field(
        description="Who asks: a person or a system ('system:<name>'), recorded on every event "
        "(a person as a pseudonym, 'person:<hex>': see docs/privacy.md)."
    )
    correlation_id: Identifier | None = Field(default=None, description="Groups related commands and events.")

    @classmethod
    def subject(cls) -> str:
        return f"{cls.service}.commands.{cls.name}"

    @classmethod
    def schema_name(cls) -> str:
        return f"{cls.service}.commands.{cls.name}.v{cls.version}"

    def payload_hash(self) -> str:
        """What the command asks for, as 32 hex digits of SHA-256 over canonical JSON.

        The envelope fields are left out (a retry by another actor or with
        another correlation id is the same command); the command's name and
        version are put in (``open-review`` and ``close-review`` have the same
        fields). Canonical: JSON-mode values, sorted keys, no white space, and
        fields left at their default omitted, so a later optional field does
        not change the hash of the commands sent before it existed. Lists keep
        their order: members given in another order hash differently.
        """
        return hashlib.sha256(self._canonical()).hexdigest()[:PAYLOAD_HASH_HEX_DIGITS]

    def payload_hmac(self, secret: bytes) -> str:
        """:meth:`payload_hash`, keyed: HMAC-SHA256 with ``secret`` over the same canonical JSON.

        Whoever reads the stream but not the service's secret cannot confirm a guessed
        payload (an e-mail address in a contact, say) by hashing candidates.
        """
        return hmac.new(secret, self._canonical(), hashlib.sha256).hexdigest()[:PAYLOAD_HASH_HEX_DIGITS]

    def _canonical(self) -> bytes:
        payload = self.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS), exclude_defaults=True)
        return _CANONICAL_JSON.encode({"command": self.schema_name(), "payload": payload}).encode()


class Query(Contract):
    """A read request answered from read models."""

    service: ClassVar[str]
    name: ClassVar[str]

    @classmethod
    def subject(cls) -> str:
        return f"{cls.service}.queries.{cls.name}"

    @classmethod
    def schema_name(cls) -> str:
        return f"{cls.service}.queries.{cls.name}"


class ErrorDetail(Contract):
    field: str | None = None
    message: str


class ErrorBody(Contract):
    code: str = Field(description="validation_error | rejected | not_found | conflict | unavailable | internal")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
    retry_after_ms: int | None = Field(
        default=None,
        ge=0,
        description="Set when a busy service refused the request without starting it: "
        "send it again after this many milliseconds.",
    )


class RecordedEventRef(Contract):
    type: str
    subject: str
    seq: int


class CommandResult(Contract):
    aggregate: str
    aggregate_id: str
    version: int = Field(description="Stream sequence of the aggregate's last event after the command.")
    events: list[RecordedEventRef] = Field(default_factory=list)
    replayed: bool = Field(default=False, description="True when the command id had already been handled.")


class Reply(Contract):
    ok: bool
    result: Any = None
    error: ErrorBody | None = None
