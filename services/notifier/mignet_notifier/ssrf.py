"""The SSRF guard: a webhook may only reach public addresses, unless the operator allows more.

The host is resolved and *every* address it resolves to must be global (not
loopback, private, link-local, CGNAT, multicast, reserved or unspecified),
unless it lies in ``MIGNET_NOTIFIER_ALLOW_PRIVATE``; plain ``http`` is allowed
only to such allowed addresses. The check runs when a subscription is created
and again before every attempt, and the request then connects to the very
address that was checked (:mod:`.webhook`), so a name that resolves elsewhere
later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from mignet_notifier.config import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where a checked URL connects: ``address``, with ``host`` kept for the Host header and TLS."""

    scheme: str
    host: str
    port: int
    address: Address


def _allowed(address: Address, allow: tuple[Network, ...]) -> bool:
    return any(address in network for network in allow if network.version == address.version)


def _why_blocked(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for test, what in (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"), "CGNAT"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not a public"),
    ):
        if test:
            return what
    return None


async def resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"the host {host!r} does not resolve ({exc})") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


async def check(url: str, allow: tuple[Network, ...]) -> Target:
    """Where ``url`` may be called, or :class:`Refused`."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = await resolve(host, port)
    if not addresses:
        raise Refused(f"the host {host!r} does not resolve")
    for address in addresses:
        if _allowed(address, allow):
            continue
        reason = _why_blocked(address)
        if reason is not None:
            raise Refused(
                f"{host} resolves to {address}, a {reason} address: webhooks may not reach it "
                "(MIGNET_NOTIFIER_ALLOW_PRIVATE lists the exceptions)"
            )
        if scheme != "https":
            raise Refused("a webhook URL must be https (plain http only to MIGNET_NOTIFIER_ALLOW_PRIVATE addresses)")
    return Target(scheme=scheme, host=host, port=port, address=addresses[0])
