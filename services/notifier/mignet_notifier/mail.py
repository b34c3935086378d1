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
from mignet_notifier.wording import details, headline, short_type

Doc = dict[str, Any]
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    # Contributed text (titles, summaries) goes into the HTML escaped; the text body is plain text.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
)


def render(delivery: Doc, subscription: Doc) -> tuple[str, str, str]:
    """Subject, text body and HTML body of one delivery."""
    event = delivery["cloud_event"]
    short = short_type(event["type"])
    line = headline(event)
    context = {
        "headline": line,
        "summary": f"mignet recorded {short.replace('.', ' ')} for {event['subject']}.",
        "details": details(event["data"]),
        "event": event,
        "subscription": subscription,
    }
    text = _TEMPLATES.get_template("email.txt").render(context)
    html = _TEMPLATES.get_template("email.html").render(context)
    return f"[mignet] {line}", text, html


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
