"""The examples under examples/ (issue 9.8), each run as an integrator would: in a virtualenv that
holds only ``pip install ./contracts``, as the ``integrator`` user, against the real registry and
reviews services on deploy/nats/nats.conf.
"""

from __future__ import annotations

import asyncio
import csv
import os
from pathlib import Path

import pytest
from conftest import RunningService
from contracts_venv import run, shared_contracts_venv
from test_reviews_service import ACTOR, MFA, NATS_ONLY, open_review, submission, submit_and_publish

from mignet_contracts import registry as r
from mignet_contracts import reviews as rv
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FOCAL_POINT_EMAIL = "focal.point.private@example.org"


@pytest.fixture
async def stack(fresh_nats, settings_for):
    async with (
        RunningService(REGISTRY, settings_for(fresh_nats)) as registry,
        RunningService(NATS_ONLY, settings_for(fresh_nats)) as reviews,
    ):
        yield fresh_nats, registry, reviews


@pytest.fixture(scope="module")
def python(tmp_path_factory) -> Path:
    return shared_contracts_venv(tmp_path_factory)


async def _example(python: Path, url, script: str, *args: str):
    """In a thread: the services under test share this event loop."""
    env = {**os.environ, "NATS_URL": url.plain, "NATS_PASSWORD": url.passwords["integrator"]}
    done = await asyncio.to_thread(run, python, str(EXAMPLES / script), *args, "--wait", "1", env=env)
    assert done.returncode == 0, done.stderr
    return done


async def _until(check, attempts: int = 20):
    """Run ``check`` until it returns something: PUBLIC copies the services' events asynchronously."""
    for _ in range(attempts):
        if found := await check():
            return found
        await asyncio.sleep(0.2)
    return await check()


def _rows(path: Path) -> dict[str, dict]:
    with path.open(newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


async def test_networks_csv_keeps_networks_and_champions_current(stack, python, tmp_path):
    url, registry, _ = stack
    command = registry.client.command
    await command(
        r.CreateNetwork(
            command_id=new_id(),
            actor=ACTOR,
            scope="national",
            country="BD",
            network_name="UN Network on Migration in Bangladesh",
            status="established",
        )
    )
    await command(
        r.AddNetworkMember(command_id=new_id(), actor=ACTOR, network_id="nat-bd", entity="IOM", role="coordinator")
    )
    await command(r.AddNetworkMember(command_id=new_id(), actor=ACTOR, network_id="nat-bd", entity="UNDP"))
    await command(
        r.AssignFocalPoint(
            command_id=new_id(),
            actor=ACTOR,
            network_id="nat-bd",
            focal_point_name="A. Rahman",
            entity="IOM",
            email=FOCAL_POINT_EMAIL,
        )
    )
    assessment = [{"criterion": code, "met": True} for code in r.reference.COUNTRY_CHAMPION_CRITERIA]
    await command(
        r.NominateChampion(
            command_id=new_id(), actor=ACTOR, country="BD", regional_group="asia-pacific", assessment=assessment
        )
    )
    out = tmp_path / "networks.csv"

    async def current(expected: dict):
        await _example(python, url, "networks_csv.py", str(out))
        rows = _rows(out) if out.exists() else {}
        ok = all(rows.get(key, {}).get(field) == value for (key, field), value in expected.items())
        return rows if ok else None

    rows = await _until(lambda: current({("nat-bd", "members"): "IOM;UNDP", ("bd", "status"): "nominated"}))
    assert rows is not None, out.read_text() if out.exists() else "no CSV"
    assert (
        rows["nat-bd"]["name"] == "UN Network on Migration in Bangladesh" and rows["nat-bd"]["status"] == "established"
    )
    assert rows["bd"]["country"] == "BD" and rows["bd"]["region"] == "asia-pacific"

    await command(r.ConfirmChampion(command_id=new_id(), actor=ACTOR, country="BD"))
    await command(
        r.RenameNetwork(
            command_id=new_id(), actor=ACTOR, network_id="nat-bd", network_name="UN Network on Migration, Bangladesh"
        )
    )
    await command(r.RemoveNetworkMember(command_id=new_id(), actor=ACTOR, network_id="nat-bd", entity="UNDP"))
    rows = await _until(lambda: current({("nat-bd", "members"): "IOM", ("bd", "status"): "confirmed"}))
    assert rows is not None, out.read_text()
    assert rows["nat-bd"]["name"] == "UN Network on Migration, Bangladesh"
    assert FOCAL_POINT_EMAIL not in out.read_text() and "Rahman" not in out.read_text()


async def test_published_contributions_prints_only_what_moderation_published(stack, python):
    url, _, reviews = stack
    review_id = await open_review(reviews.client)
    contribution_id = await submit_and_publish(
        reviews.client, review_id, contributor=MFA, title="Fair recruitment in the Gulf corridor", objectives=[6, 23]
    )
    await reviews.client.command(submission(review_id, title="Still under moderation"))  # submitted, never published

    async def printed():
        lines = (await _example(python, url, "published_contributions.py")).stdout.splitlines()
        return lines or None

    lines = await _until(printed)
    assert lines is not None
    assert len(lines) == 1, lines
    assert (
        f"{review_id}  Migrant Forum in Asia (migrant-diaspora)  Fair recruitment in the Gulf corridor  [objectives 6,23]"
        in lines[0]
    )
    assert "moderation" not in lines[0] and "private@example.org" not in lines[0]
    withdrawn = await reviews.client.command(
        rv.WithdrawContribution(command_id=new_id(), actor=ACTOR, contribution_id=contribution_id, reason="Superseded")
    )
    assert withdrawn.aggregate_id == contribution_id

    async def withdrawal_printed():
        lines = (await _example(python, url, "published_contributions.py")).stdout.splitlines()
        return lines if len(lines) == 2 else None

    lines = await _until(withdrawal_printed)
    assert lines is not None and lines[1].endswith(f"{contribution_id}  withdrawn: no longer public"), lines
    assert "Superseded" not in "\n".join(lines) and ACTOR not in "\n".join(lines)
    assert (await _example(python, url, "published_contributions.py", "--since", "2999-01-01")).stdout == ""
