"""What an e-mail says about each event type: its headline (also the Subject) and the data fields shown.

Pure text from the event's data; :mod:`.mail` puts it into the escaped templates.
Contact details are never shown: the events that carry them are not notified at all.
"""

from __future__ import annotations

from typing import Any

#: Per event type (after ``int.un-migration.mignet.``, before ``.v1``): the headline, from the event's data.
HEADLINES: dict[str, str] = {
    "registry.network.created": "New UN network on migration: {network_name}",
    "registry.network.status-changed": "Network {network_id} is now {to_status}",
    "registry.network.renamed": "Network {network_id} renamed",
    "registry.champion.nominated": "{country} nominated as a champion country",
    "registry.champion.confirmed": "{country} confirmed as a champion country",
    "registry.champion.withdrawn": "{country} withdrew as a champion country",
    "registry.working-group.created": "New working group: {group_name}",
    "registry.working-group.member-joined": "{member} joined working group {group_id}",
    "registry.working-group.member-left": "{member} left working group {group_id}",
    "registry.working-group.output-added": "Working group {group_id} added an output: {title}",
    "registry.working-group.output-status-changed": "Output {output_id} of working group {group_id} is now {to_status}",
    "registry.working-group.pilot-started": "{network_id} pilots output {output_id} of working group {group_id}",
    "registry.working-group.pilot-ended": "{network_id} ended its pilot of output {output_id} ({group_id})",
    "registry.support-request.requested": "{country} asks the Network for support ({requester})",
    "registry.support-request.accepted": "Support request {request_id} accepted",
    "registry.support-request.started": "Support request {request_id} is in progress",
    "registry.support-request.completed": "Support request {request_id} completed",
    "registry.support-request.declined": "Support request {request_id} declined",
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
    "group_id",
    "group_name",
    "workstream",
    "member",
    "lead",
    "output_id",
    "kind",
    "started_on",
    "ended_on",
    "request_id",
    "requester",
    "champion",
    "measures",
    "review_settings",
    "working_group",
    "lead_entity",
    "title",
    "summary",
    "description",
    "level",
    "objectives",
    "language",
    "reason",
    "note",
    "occurred_on",
)


def short_type(event_type: str) -> str:
    return event_type.removeprefix("int.un-migration.mignet.").rsplit(".v", 1)[0]


def headline(event: dict[str, Any]) -> str:
    """One line (it is also the Subject header), at most 200 characters."""
    short = short_type(event["type"])
    data = {name: shown(value) for name, value in event["data"].items()}
    try:
        line = HEADLINES[short].format(**data)
    except (KeyError, IndexError):
        line = f"{short.replace('.', ' ')}: {event['subject']}"
    return " ".join(line.split())[:200]


def details(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of the fields shown, in order, where the event has them."""
    return [(name.replace("_", " "), shown(data[name])) for name in SHOWN if data.get(name) not in (None, "", [])]


def shown(value: Any) -> str:
    """A data value as a reader sees it: lists joined, a working group's member by name, yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict) and "entity" in value:
        return str(value["entity"])  # a UN entity member
    if isinstance(value, dict) and "organization" in value:
        return f"{value['organization']} ({value.get('category', 'stakeholder')})"
    return str(value)
