"""`mignet admin backup` and `restore`: the event store survives the loss of its stream, and MongoDB is rebuilt from it.

The runbook's disaster recovery (docs/operations.md), end to end against real servers:
events written through the registry, a backup, the stream deleted, provisioning again,
the restore, then the read models rebuilt and compared with what they were.
"""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from conftest import RunningService, eventually
from typer.testing import CliRunner

from mignet_cli.main import app
from mignet_contracts import registry as c
from mignet_registry.app import SPEC
from mignet_runtime.client import MignetClient
from mignet_runtime.provision import provision_with
from mignet_runtime.settings import Settings

pytestmark = pytest.mark.integration


async def _mignet(env: dict[str, str], *args: str):
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "200", **env})


async def _networks(client: MignetClient) -> list[dict]:
    return (await client.query(c.ListNetworks(limit=200)))["items"]


async def test_backup_delete_restore_and_rebuild_gives_back_the_same_registry(
    fresh_nats, settings_for, mongo, db_prefix, tmp_path
):
    admin_env = fresh_nats.env_for("admin")
    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        client = service.client
        for code in ("BD", "NP", "PH"):
            await client.command(
                c.CreateNetwork(
                    command_id=f"create-{code}", actor="test", scope="national", country=code, network_name=code
                )
            )
            await client.command(
                c.AddNetworkMember(
                    command_id=f"join-{code}", actor="test", network_id=f"nat-{code.lower()}", entity="IOM"
                )
            )
        # Every event projected (three networks, each with its member) before the read models are compared.
        await eventually(lambda: _count(client, 3, members=1), timeout=10)
        before = await _networks(client)
        last = await service.runtime.store.last_seq()

        file = tmp_path / "registry.jsonl"
        done = await _mignet(admin_env, "admin", "backup", "registry", str(file))
        assert done.exit_code == 0, done.output
        assert f"backed up {last} events of REGISTRY (last sequence {last})" in " ".join(done.stdout.split())
        lines = file.read_text().splitlines()
        assert json.loads(lines[0])["last_seq"] == last and len(lines) == last + 1

        # Into a stream that is not empty: refused, nothing written.
        refused = await _mignet(admin_env, "admin", "restore", "registry", str(file))
        assert refused.exit_code == 1 and "is not empty" in refused.stderr and "Traceback" not in refused.output
        assert await service.runtime.store.last_seq() == last

    # Disaster: the stream and the database are gone. Provision, restore, and rebuild the read models.
    await mongo.drop_database(f"{db_prefix}_registry")
    nc = await nats.connect(fresh_nats)
    await nc.jetstream().delete_stream("REGISTRY")
    await provision_with(Settings(**fresh_nats.credentials("admin")))
    restored = await _mignet(admin_env, "admin", "restore", "registry", str(file))
    assert restored.exit_code == 0, restored.output
    info = await nc.jetstream().stream_info("REGISTRY")
    assert (info.state.last_seq, info.state.messages) == (last, last)
    await nc.close()

    async with RunningService(SPEC, settings_for(fresh_nats)) as service:
        await service.client.admin("registry", "projections.rebuild", {})
        await eventually(lambda: _count(service.client, 3, members=1), timeout=20)
        assert await _networks(service.client) == before
        # Commands carry on where the restored stream left off: expected versions still hold.
        await service.client.command(
            c.AddNetworkMember(command_id="join-BD-2", actor="test", network_id="nat-bd", entity="UNICEF")
        )
        assert await service.runtime.store.last_seq() == last + 1


async def test_bad_arguments_are_refused_plainly(fresh_nats, tmp_path):
    env = fresh_nats.env_for("admin")
    unknown = await _mignet(env, "admin", "backup", "payroll", str(tmp_path / "x"))
    assert unknown.exit_code == 2 and "has no stream" in unknown.stderr
    missing = await _mignet(env, "admin", "restore", "registry", str(tmp_path / "absent.jsonl"))
    assert missing.exit_code == 1 and "not a readable backup file" in missing.stderr
    (tmp_path / "junk.jsonl").write_text("hello\n")
    junk = await _mignet(env, "admin", "restore", "registry", str(tmp_path / "junk.jsonl"))
    assert junk.exit_code == 1 and "Traceback" not in junk.output


async def _count(client: MignetClient, n: int, members: int = 0) -> bool:
    networks = await _networks(client)
    return len(networks) >= n and all(network["member_count"] >= members for network in networks)
