"""CloudEvents attributes in NATS headers: the NATS protocol binding, binary mode.

Each attribute travels as a ``ce-<name>`` header whose value is percent-encoded
the way the binding asks (as the HTTP binding does): every character outside
printable ASCII, and the space, ``"`` and ``%``, becomes ``%XX`` for each byte
of its UTF-8 encoding. So ``José "Ñ" 100% secretariat`` is sent as
``Jos%C3%A9%20%22%C3%91%22%20100%25%20secretariat`` and every NATS client reads
it back as plain ASCII. ``datacontenttype`` is ``ce-datacontenttype``;
``content-type`` is sent too, for clients that look there.

Events recorded before this encoding carry no ``ce-datacontenttype``: their
values are taken as they are (decoding them could turn a literal ``%20`` into a
space), so :func:`attributes` reads old and new events alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.header import Header, decode_header
from typing import Any
from urllib.parse import unquote

PREFIX = "ce-"
H_DATACONTENTTYPE = "ce-datacontenttype"
#: Not a CloudEvents header: the generic content type, kept for clients that read it.
H_CONTENT_TYPE = "content-type"

#: Printable ASCII except space, '"' and '%' passes as is; everything else is percent-encoded.
_NEEDS_ENCODING = re.compile(r"[^\x21\x23\x24\x26-\x7e]")


def encode_value(value: str) -> str:
    """Percent-encode one header value (a no-op for the usual identifiers and URIs)."""
    if not _NEEDS_ENCODING.search(value):
        return value
    return _NEEDS_ENCODING.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), value)


def decode_value(value: Any) -> str:
    """The text of one percent-encoded header value, however the NATS client handed it over."""
    return unquote(header_text(value), errors="strict")


def header_text(value: Any) -> str:
    """A header value as text. nats-py's ``get_msg`` (STREAM.MSG.GET) parses headers with
    :mod:`email`, which hands a raw non-ASCII value back as a :class:`~email.header.Header`
    holding undecoded bytes; those bytes are UTF-8."""
    if isinstance(value, Header):
        parts = decode_header(value)
        return b"".join(p if isinstance(p, bytes) else p.encode() for p, _ in parts).decode("utf-8", "replace")
    return str(value)


def is_encoded(headers: Mapping[str, Any]) -> bool:
    """Whether the message follows the binding (mignet sends ``ce-datacontenttype`` since it does)."""
    return H_DATACONTENTTYPE in headers


def encode_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with every ``ce-`` value percent-encoded; other headers unchanged."""
    return {k: encode_value(v) if k.startswith(PREFIX) else v for k, v in headers.items()}


def decode_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """``headers`` with every ``ce-`` value decoded (or, on an old event, taken as it is)."""
    if not headers:
        return {}
    decode = decode_value if is_encoded(headers) else header_text
    return {k: decode(v) if k.startswith(PREFIX) else header_text(v) for k, v in headers.items()}


def attributes(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """The CloudEvents attributes of a message, by attribute name (``type``, ``actor``, ...)."""
    return {k[len(PREFIX) :]: v for k, v in decode_headers(headers).items() if k.startswith(PREFIX)}
