"""One webhook POST with httpx: pinned to the checked address, no redirects, bounded in time and size."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from mignet_notifier import ssrf
from mignet_notifier.config import NotifierConfig

#: The most of a response body read (and kept in the delivery log): a receiver's answer is not our business.
MAX_RESPONSE_BYTES = 4096
#: The largest body sent; an event is far smaller (commands are capped at 256 KB).
MAX_REQUEST_BYTES = 512 * 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: float
    error: str | None = None
    retry_after: float | None = None
    response: str = ""
    #: Set by channels whose success is not an HTTP status (e-mail).
    ok: bool | None = None

    @property
    def delivered(self) -> bool:
        if self.ok is not None:
            return self.ok
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class WebhookSender:
    def __init__(self, config: NotifierConfig):
        self.config = config
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.request_timeout),
            follow_redirects=False,  # a 3xx is a failed attempt, never followed
            limits=httpx.Limits(max_connections=max(config.concurrency, 10), max_keepalive_connections=100),
            trust_env=False,  # no proxy from the environment: the address checked is the one reached
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        if len(body) > MAX_REQUEST_BYTES:
            return Outcome(None, 0.0, error=f"the body is {len(body)} bytes, over the {MAX_REQUEST_BYTES} allowed")
        try:
            target = await ssrf.check(url, self.config.allow_private)
        except ssrf.Refused as exc:
            return Outcome(None, took(), error=f"refused: {exc}")
        # Connect to the checked address; the Host header and TLS (SNI, certificate) keep the name.
        pinned = httpx.URL(url).copy_with(host=str(target.address))
        default_port = 443 if target.scheme == "https" else 80
        name = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 literal
        host_header = name if target.port == default_port else f"{name}:{target.port}"
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self.client.build_request(
            "POST", pinned, content=body, headers={**headers, "host": host_header}, extensions=extensions
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException:
            return Outcome(None, took(), error=f"no answer within {self.config.request_timeout:g}s")
        except httpx.HTTPError as exc:
            return Outcome(None, took(), error=f"{type(exc).__name__}: {exc}"[:300])
        try:
            head = b""
            async for chunk in response.aiter_raw():
                head += chunk
                if len(head) >= MAX_RESPONSE_BYTES:
                    break
        except httpx.HTTPError:
            pass
        finally:
            await response.aclose()
        retry_after = None
        if response.status_code in (429, 503):
            retry_after = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
        return Outcome(
            response.status_code,
            took(),
            error=None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
            retry_after=retry_after,
            response=head[:MAX_RESPONSE_BYTES].decode("utf-8", "replace"),
        )
