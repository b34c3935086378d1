"""The services' logs, in their production (JSON) form, name commands by id and never carry personal data."""

from __future__ import annotations

import io
import json
import logging

from conftest import RunningService, eventually

from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews.app import SPEC
from mignet_runtime import logs

ACTOR = "test:logs"
EMAIL = "amira.private.contact@example.org"
NAME = "Amira Privatename"


async def test_a_submission_is_logged_by_its_ids_and_its_contact_never(fresh_nats, settings_for):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter("reviews"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # everything any library would say, not only the service's INFO
    try:
        async with RunningService(SPEC, settings_for(fresh_nats)) as reviews:
            client = reviews.client
            scheduled = await client.command(
                c.ScheduleReview(command_id=new_id(), actor=ACTOR, region="asia-pacific", cycle="2024-2025")
            )
            await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=scheduled.aggregate_id))
            submit = c.SubmitContribution(
                command_id=new_id(),
                actor=ACTOR,
                review_id=scheduled.aggregate_id,
                contributor={"kind": "member-state", "country": "BD"},
                level="national",
                title="National review",
                summary="Progress on regular pathways.",
                objectives=[1],
                language="en",
                contact={"name": NAME, "email": EMAIL},
            )
            submitted = await client.command(submit)
            await client.command(submit)  # a resend: replayed
            # Refused input that carries the address: the error never echoes it, nor does the log.
            bad = submit.model_dump(mode="json") | {
                "command_id": new_id(),
                "contact": {"name": NAME, "email": EMAIL + "x@"},
            }
            refused = await client.request("reviews.commands.submit-contribution", json.dumps(bad).encode())
            assert refused.error is not None and refused.error.code == "validation_error"
            await eventually(lambda: client.query(c.GetContribution(contribution_id=submitted.aggregate_id)))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = out.getvalue()
    assert EMAIL not in text and "amira.private" not in text and NAME not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all(line["service"] == "reviews" for line in lines)
    mine = [line for line in lines if line.get("command_id") == submit.command_id]
    assert mine, "the submission is logged (at DEBUG) under its command id"
    assert {line["aggregate_id"] for line in mine} == {submitted.aggregate_id}
    assert {line["correlation_id"] for line in mine} == {submit.command_id}
    assert any("replayed" in line["message"] for line in mine)
