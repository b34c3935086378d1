"""`mignet registry ...`, `mignet projections ...` against a running registry service."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import RunningService, eventually
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_registry.app import SPEC


@pytest.fixture
async def registry(fresh_nats, settings_for):
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        service.url = fresh_nats.url_for("operator")  # the CLI acts as an operator
        yield service


async def mignet(service, *args: str):
    env = {"MIGNET_ACTOR": "cli:test", "NATS_USER": "", "COLUMNS": "200"}
    return await asyncio.to_thread(CliRunner().invoke, app, [*args, "--nats-url", service.url], env=env)


async def test_create_list_and_query_networks_and_champions(registry):
    created = await mignet(
        registry,
        "registry",
        "create-network",
        "--scope",
        "national",
        "--country",
        "bd",
        "--name",
        "UN Network on Migration in Bangladesh",
        "--member",
        "IOM:coordinator",
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == "nat-bd"

    again = await mignet(
        registry, "registry", "create-network", "--scope", "national", "--country", "BD", "--name", "Another"
    )
    assert again.exit_code == 1
    assert "already exists" in again.stderr

    bad = await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "XX", "--name", "x")
    assert bad.exit_code == 2 and "unknown country code 'XX'" in bad.stderr

    async def listed():
        result = await mignet(registry, "registry", "networks", "--json")
        items = json.loads(result.stdout)["items"]
        return items if items else None

    [network] = await eventually(listed)
    assert (network["network_id"], network["member_count"]) == ("nat-bd", 1)
    table = await mignet(registry, "registry", "networks", "--region", "asia-pacific")
    assert "nat-bd" in table.stdout and "UN Network on Migration in Bangladesh" in table.stdout

    assert (await mignet(registry, "registry", "seed")).exit_code == 0
    seeded = await mignet(registry, "registry", "seed")
    assert "0 commands wrote events" in seeded.stdout

    async def champions():
        result = await mignet(registry, "registry", "champions", "--json")
        items = json.loads(result.stdout)["items"]
        return items if len(items) == 14 else None

    assert {c["country"] for c in await eventually(champions)} >= {"BD", "PT", "CA", "SN", "MX"}
    directory = await mignet(registry, "registry", "directory", "--as-of", "2020-10-31", "--json")
    summary = json.loads(directory.stdout)
    assert summary["champions"]["total"] == 14 and summary["networks"]["total"] == 1  # the global Network


async def test_projection_status_and_rebuild(registry):
    await mignet(
        registry,
        "registry",
        "create-network",
        "--scope",
        "national",
        "--country",
        "MX",
        "--name",
        "Red de las Naciones Unidas sobre la Migración en México",
    )
    status = await mignet(registry, "projections", "status", "registry", "--json")
    assert status.exit_code == 0, status.output
    assert {row["projection"] for row in json.loads(status.stdout)["items"]} == {
        "networks",
        "champions",
        "working-groups",
        "support-requests",
    }
    rebuilt = await mignet(registry, "projections", "rebuild", "registry", "--json")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert {r["projection"]: r["documents"] for r in json.loads(rebuilt.stdout)["items"]} == {
        "networks": 1,
        "champions": 0,
        "working-groups": 0,
        "support-requests": 0,
    }


async def test_unreachable_nats_fails_fast_with_a_clear_message():
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["registry", "networks", "--nats-url", "nats://127.0.0.1:1"], env={}
    )
    assert result.exit_code == 3
    assert "cannot reach NATS" in result.stderr


async def test_wrong_credentials_say_so_and_a_cluster_list_is_tried_in_turn(fresh_nats, registry):
    env = {"NATS_USER": "operator", "NATS_PASSWORD": "pwrong", "COLUMNS": "200"}
    args = ["registry", "networks", "--nats-url", fresh_nats.plain]
    wrong = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
    assert (
        wrong.exit_code == 3 and "authorization violation" in wrong.stderr.lower() and "check NATS_USER" in wrong.stderr
    )
    assert "pwrong" not in wrong.output
    # A dead server first in the list: the CLI goes on to the next one.
    env["NATS_PASSWORD"] = fresh_nats.passwords["operator"]
    args[-1] = f"nats://127.0.0.1:1,{fresh_nats.plain}"
    listed = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--json"], env=env)
    assert listed.exit_code == 0, listed.output


async def test_projection_status_counts_only_the_projections_own_pending_events(registry):
    await mignet(registry, "registry", "create-network", "--scope", "national", "--country", "NP", "--name", "Nepal")

    async def settled():
        rows = json.loads((await mignet(registry, "projections", "status", "registry", "--json")).stdout)["items"]
        by_name = {row["projection"]: row for row in rows}
        return by_name if by_name["networks"]["pending"] == 0 else None

    rows = await eventually(settled)
    # no champion events at all: nothing pending, although the stream has moved on
    assert rows["champions"]["pending"] == 0 and rows["champions"]["stream_last_seq"] == 1
    assert rows["networks"]["applied_seq"] == 1


def test_every_registry_command_that_writes_takes_a_command_id():
    import typer.main

    group = typer.main.get_group(app)
    for name in ("registry", "reviews"):
        sub = group.commands[name]
        for command_name, command in sub.commands.items():
            options = {opt for param in command.params for opt in getattr(param, "opts", [])}
            if "--actor" in options and command_name != "seed":
                assert "--command-id" in options, f"mignet {name} {command_name} has no --command-id"


async def test_a_resent_command_id_writes_nothing(registry):
    args = ["registry", "create-network", "--scope", "national", "--country", "PH", "--name", "Philippines"]
    assert (await mignet(registry, *args, "--command-id", "ph-1")).exit_code == 0
    renamed = await mignet(
        registry,
        "registry",
        "rename-network",
        "nat-ph",
        "UN Network on Migration in the Philippines",
        "--command-id",
        "ph-2",
    )
    assert renamed.exit_code == 0, renamed.output
    again = await mignet(
        registry,
        "registry",
        "rename-network",
        "nat-ph",
        "UN Network on Migration in the Philippines",
        "--command-id",
        "ph-2",
    )
    assert again.exit_code == 0 and "already done earlier: nothing new written" in again.stdout
    assert await registry.runtime.store.last_seq() == 2


async def test_a_command_id_reused_for_another_command_is_refused_not_retryable(registry):
    """Exit 1, not 3: a reused id never succeeds on retry, so scripts must not loop on it."""
    args = ["registry", "create-network", "--scope", "national", "--name", "Network"]
    assert (await mignet(registry, *args, "--country", "BD", "--command-id", "bd-1")).exit_code == 0
    reused = await mignet(registry, *args, "--country", "NP", "--command-id", "bd-1")
    assert reused.exit_code == 1, reused.output
    assert "error (conflict)" in reused.stderr and "already used" in reused.stderr
    assert await registry.runtime.store.last_seq() == 1


async def test_rename_describe_and_search_networks(registry):
    for country, name in (("BD", "UN Network on Migration in Bangladesh"), ("NP", "Nepal Migration Network")):
        assert (
            await mignet(
                registry, "registry", "create-network", "--scope", "national", "--country", country, "--name", name
            )
        ).exit_code == 0
    assert (
        await mignet(registry, "registry", "rename-network", "nat-np", "UN Network on Migration in Nepal")
    ).exit_code == 0
    described = await mignet(registry, "registry", "describe-network", "nat-np", "--description", "Meets in Kathmandu.")
    assert described.exit_code == 0 and "description of nat-np changed" in described.stdout
    assert (await mignet(registry, "registry", "describe-network", "nat-np")).exit_code == 2  # neither nor

    async def searched():
        # Until both the rename and the later description are projected (seen at the rename alone under load).
        found = json.loads((await mignet(registry, "registry", "networks", "--search", "in nepal", "--json")).stdout)
        return found if found["total"] == 1 and found["items"][0]["description"] else None

    found = await eventually(searched)
    assert [n["network_id"] for n in found["items"]] == ["nat-np"]
    assert (found["offset"], found["limit"]) == (0, 200)
    assert found["items"][0]["description"] == "Meets in Kathmandu."
    both = json.loads((await mignet(registry, "registry", "networks", "--search", "UN NETWORK", "--json")).stdout)
    assert both["total"] == 2
    # The search text is words, not a regular expression.
    assert json.loads((await mignet(registry, "registry", "networks", "--search", ".*", "--json")).stdout)["total"] == 0


async def test_making_the_global_network_inactive_needs_yes(registry):
    assert (
        await mignet(
            registry,
            "registry",
            "create-network",
            "--scope",
            "global",
            "--status",
            "established",
            "--name",
            "United Nations Network on Migration",
        )
    ).exit_code == 0
    refused = await mignet(registry, "registry", "change-status", "global", "inactive")
    assert refused.exit_code == 2 and "needs --yes" in refused.stderr
    assert await registry.runtime.store.last_seq() == 1
    done = await mignet(registry, "registry", "change-status", "global", "inactive", "--yes", "--reason", "test")
    assert done.exit_code == 0, done.output
    assert await registry.runtime.store.last_seq() == 2


async def test_champions_show_the_current_network_and_confirmation_needs_a_reason_when_short(registry):
    nominated = await mignet(
        registry,
        "registry",
        "nominate-champion",
        "BD",
        "--group",
        "asia-pacific",
        "--met",
        "host-government-commitment",
        "--met",
        "360-degree-vision",
        "--not-assessed",
        "resident-coordinator-support",
    )
    assert nominated.exit_code == 0, nominated.output
    short = await mignet(registry, "registry", "confirm-champion", "BD")
    assert short.exit_code == 1 and "met 2 of the 5 criteria" in short.stderr
    assert "not assessed: resident-coordinator-support" in short.stderr
    assert "override_reason" in short.stderr
    confirmed = await mignet(registry, "registry", "confirm-champion", "BD", "--override-reason", "EC decision")
    assert confirmed.exit_code == 0, confirmed.output

    # The network is created after the nomination: the list shows it as it is now.
    assert (
        await mignet(
            registry,
            "registry",
            "create-network",
            "--scope",
            "national",
            "--country",
            "BD",
            "--name",
            "UN Network on Migration in Bangladesh",
            "--status",
            "being-established",
        )
    ).exit_code == 0

    async def with_network():
        items = json.loads((await mignet(registry, "registry", "champions", "--json")).stdout)["items"]
        return items if items and items[0]["network_id"] else None

    [champion] = await eventually(with_network)
    assert (champion["network_id"], champion["network_status"], champion["existing_network_id"]) == (
        "nat-bd",
        "being-established",
        None,
    )
    assert champion["override_reason"] == "EC decision"
    listed = await mignet(registry, "registry", "champions")
    assert "nat-bd" in listed.stdout and "being-established" in listed.stdout


async def test_directory_refuses_a_future_date(registry):
    future = await mignet(registry, "registry", "directory", "--as-of", "2099-01-01")
    assert future.exit_code == 2
    assert "as_of: 2099-01-01 is in the future" in future.stderr and "Directory today" not in future.stdout


async def test_version_health_and_help(registry):
    version = await asyncio.to_thread(CliRunner().invoke, app, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("mignet ")
    helped = await asyncio.to_thread(CliRunner().invoke, app, ["--help"])
    assert "NATS_URL" in helped.stdout and "NATS_USER" in helped.stdout and "Exit codes" in helped.stdout

    healthy = await mignet(registry, "health", "registry", "--json")
    assert healthy.exit_code == 0, healthy.output
    [row] = json.loads(healthy.stdout)["items"]
    assert (row["service"], row["healthy"], row["stream"]) == ("registry", True, "REGISTRY")
    # reviews is not running on this NATS: exit 3, and the table says which one.
    partly = await mignet(registry, "health")
    assert partly.exit_code == 3
    assert "NOT ANSWERING" in partly.stdout and "registry" in partly.stdout


async def test_tailing_a_stream_that_does_not_exist_is_a_clear_error(registry):
    await registry.nc.jetstream().delete_stream("NOTIFIER")  # provisioned like the others: gone here
    result = await mignet(registry, "events", "tail", "notifier", "--from-start")
    assert result.exit_code == 1
    assert result.stderr.startswith("error (not_found): there is no stream NOTIFIER")
    assert "Traceback" not in result.output
    malformed = await mignet(registry, "events", "tail", "registry", "--subject", "foo bar")
    assert malformed.exit_code == 2 and "expected a subject of the registry stream" in malformed.stderr
    assert "Traceback" not in malformed.output
