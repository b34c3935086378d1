"""E-mail deliveries: a plain-text and an HTML body per event type, from escaped templates, sent with aiosmtplib.

The Message-ID derives from the delivery id, so a resend (the documented window)
carries the same id and mail clients thread or drop it.
"""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2

from mignet_notifier.config import NotifierConfig
from mignet_notifier.webhook import Outcome

Doc = dict[str, Any]
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    # Contributed text (titles, summaries) goes into the HTML escaped; the text body is plain text.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
)

#: Per event type (after ``int.un-migration.mignet.``, before ``.v1``): the headline, from the event's data.
HEADLINES: dict[str, str] = {
    "registry.network.created": "New UN network on migration: {network_name}",
    "registry.network.status-changed": "Network {network_id} is now {to_status}",
    "registry.network.renamed": "Network {network_id} renamed",
    "registry.champion.nominated": "{country} nominated as a champion country",
    "registry.champion.confirmed": "{country} confirmed as a champion country",
    "registry.champion.withdrawn": "{country} withdrew as a champion country",
    "reviews.review.opened": "Review {review_id} is open for contributions",
    "reviews.review.closed": "Review {review_id} is closed",
    "reviews.contribution.submitted": "New contribution to {review_id} awaits moderation: {title}",
    "reviews.contribution.published": "Contribution {contribution_id} is published",
}
#: Data fields shown in the body, in this order, when the event has them (never contact details).
SHOWN = (
    "network_name",
    "network_id",
    "scope",
    "country",
    "region",
    "from_status",
    "to_status",
    "review_id",
    "contribution_id",
    "title",
    "summary",
    "level",
    "objectives",
    "language",
    "reason",
    "note",
    "occurred_on",
)


def _short(event_type: str) -> str:
    return event_type.removeprefix("int.un-migration.mignet.").rsplit(".v", 1)[0]


def render(delivery: Doc, subscription: Doc) -> tuple[str, str, str]:
    """Subject, text body and HTML body of one delivery."""
    event = delivery["cloud_event"]
    data = event["data"]
    short = _short(event["type"])
    try:
        headline = HEADLINES[short].format(**data)
    except (KeyError, IndexError):
        headline = f"{short.replace('.', ' ')}: {event['subject']}"
    headline = " ".join(headline.split())[:200]  # one line: it is also the Subject header
    details = [(name.replace("_", " "), _value(data[name])) for name in SHOWN if data.get(name) not in (None, "", [])]
    context = {
        "headline": headline,
        "summary": f"mignet recorded {short.replace('.', ' ')} for {event['subject']}.",
        "details": details,
        "event": event,
        "subscription": subscription,
    }
    text = _TEMPLATES.get_template("email.txt").render(context)
    html = _TEMPLATES.get_template("email.html").render(context)
    return f"[mignet] {headline}", text, html


def _value(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def message(delivery: Doc, subscription: Doc, sender: str, to: str) -> EmailMessage:
    subject, text, html = render(delivery, subscription)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{delivery['_id']}@notifier.mignet>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


class MailSender:
    """Sends over SMTP: ``smtp://[user:password@]host:port`` (STARTTLS when offered) or ``smtps://`` (TLS)."""

    def __init__(self, config: NotifierConfig):
        assert config.smtp_url is not None
        parts = urlsplit(config.smtp_url)
        self.config = config
        self.options: dict[str, Any] = {
            "hostname": parts.hostname or "127.0.0.1",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "use_tls": parts.scheme == "smtps",
            "timeout": config.request_timeout,
        }
        if parts.username:
            self.options.update(username=unquote(parts.username), password=unquote(parts.password or ""))

    async def send(self, delivery: Doc, subscription: Doc, to: str) -> Outcome:
        """Sends to ``to`` (personal data: it is kept out of the outcome's error, which is logged and stored)."""
        started = time.perf_counter()
        took = lambda: round((time.perf_counter() - started) * 1000, 1)  # noqa: E731
        try:
            await aiosmtplib.send(message(delivery, subscription, self.config.mail_from, to), **self.options)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]  # one recipient per message
            return Outcome(
                refused.code, took(), error=_without(f"SMTP {refused.code}: {refused.message}", to), ok=False
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is permanent for this message; retrying follows the schedule all the same (then parked).
            error = _without(f"SMTP {exc.code}: {exc.message}", to)
            return Outcome(exc.code, took(), error=error, ok=False)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome(None, took(), error=_without(f"{type(exc).__name__}: {exc}", to), ok=False)
        return Outcome(250, took(), ok=True)


def _without(error: str, address: str) -> str:
    """A server's error often repeats the recipient (``550 <a@b>: unknown user``): not in the log nor the store."""
    return re.sub(re.escape(address), "(recipient)", error, flags=re.IGNORECASE)[:300]
