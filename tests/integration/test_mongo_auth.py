"""SecantusDB with --auth, as `make run` starts it: an admin user and one user per service, each with
readWrite on its own database only (mignet_runtime.local_mongo; compose does the same with
deploy/mongo/create-users.js).

Against a real SecantusDB started with --auth: the services run as their own users; each user is refused
(code 13, Unauthorized) the other service's database; a wrong password leaves the service not ready with
the reason in /readyz, one clear log line, no traceback and no password anywhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import stat
import sys
import urllib.error
import urllib.request

import pytest
from conftest import RunningService, eventually
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mignet_contracts import registry as c
from mignet_contracts.envelope import new_id
from mignet_registry.app import SPEC as REGISTRY
from mignet_reviews.app import SPEC as REVIEWS
from mignet_runtime.local_mongo import MongoUsers, start_authenticated_secantus
from mignet_runtime.localstack import ManagedProcess, free_port
from mignet_runtime.settings import Settings

pytestmark = pytest.mark.integration

SERVICES = ("registry", "reviews")


@dataclasses.dataclass
class AuthMongo:
    process: ManagedProcess
    users: MongoUsers
    databases: dict[str, str]
    steps: list[str]


@pytest.fixture
def auth_mongo(tmp_path, db_prefix):
    databases = {name: f"{db_prefix}_{name}" for name in SERVICES}
    process, users, steps = start_authenticated_secantus(
        tmp_path / "mongo", databases, tmp_path / "mongo-passwords.env", log_path=tmp_path / "secantus.log"
    )
    yield AuthMongo(process, users, databases, steps)
    process.stop(10)


def _client(url: str) -> MongoClient:
    return MongoClient(url, serverSelectionTimeoutMS=3000)


def _refused(action) -> int | None:
    try:
        action()
    except OperationFailure as exc:
        return exc.code
    return None


def test_each_user_reads_and_writes_its_own_database_and_is_refused_the_others(auth_mongo, tmp_path):
    assert auth_mongo.steps[0] == "user admin: root (set while the server ran once without --auth)"
    passwords_file = tmp_path / "mongo-passwords.env"
    assert stat.S_IMODE(passwords_file.stat().st_mode) == 0o600
    assert {line.split("=")[0] for line in passwords_file.read_text().split()} == {
        "ADMIN_MONGO_PASSWORD",
        "REGISTRY_MONGO_PASSWORD",
        "REVIEWS_MONGO_PASSWORD",
    }
    own, other = auth_mongo.databases["registry"], auth_mongo.databases["reviews"]
    with _client(auth_mongo.users.url_for("reviews")) as reviews:
        reviews[other].pages.insert_one({"_id": "p1"})
    with _client(auth_mongo.users.url_for("registry")) as registry:
        registry[own].networks.insert_one({"_id": "nat-bd"})
        registry[own].networks.create_index([("country", 1)])
        assert registry[own].networks.find_one({"_id": "nat-bd"}) == {"_id": "nat-bd"}
        assert _refused(lambda: registry[other].pages.find_one()) == 13
        assert _refused(lambda: registry[other].pages.insert_one({"_id": "p2"})) == 13
        assert _refused(lambda: registry[other].pages.delete_many({})) == 13
        assert _refused(registry.list_database_names) == 13
    with _client(auth_mongo.users.url_for("reviews")) as reviews:
        assert _refused(lambda: reviews[own].networks.find_one()) == 13
        assert _refused(lambda: reviews[own].networks.update_one({}, {"$set": {"x": 1}})) == 13
        assert reviews[other].pages.count_documents({}) == 1  # nothing written by the refused insert
    with _client(auth_mongo.users.plain_url) as anonymous:
        assert _refused(lambda: anonymous[own].networks.find_one()) == 13


def test_a_restart_keeps_the_users_and_a_removed_password_is_replaced(auth_mongo, tmp_path):
    auth_mongo.process.stop(10)
    passwords_file = tmp_path / "mongo-passwords.env"
    old = auth_mongo.users.passwords["registry"]
    # Rotating one user's password locally: remove its line, start again.
    kept = [line for line in passwords_file.read_text().splitlines() if not line.startswith("REGISTRY_")]
    passwords_file.write_text("\n".join(kept) + "\n")
    auth_mongo.process, users, steps = start_authenticated_secantus(
        tmp_path / "mongo", auth_mongo.databases, passwords_file, port=auth_mongo.users.port
    )
    assert steps == [
        f"user registry: readWrite on {auth_mongo.databases['registry']} (updated)",
        f"user reviews: readWrite on {auth_mongo.databases['reviews']} (unchanged)",
    ]
    assert users.passwords["registry"] != old and users.passwords["reviews"] == auth_mongo.users.passwords["reviews"]
    with _client(users.url_for("registry")) as registry:
        registry[auth_mongo.databases["registry"]].networks.insert_one({"_id": "after"})
    stale = dataclasses.replace(users, passwords={**users.passwords, "registry": old})
    with _client(stale.url_for("registry")) as registry:
        assert _refused(lambda: registry.admin.command("ping")) == 18  # AuthenticationFailed


async def test_the_services_run_as_their_own_mongodb_users(auth_mongo, fresh_nats, settings_for):
    def own(service: str) -> Settings:
        return dataclasses.replace(settings_for(fresh_nats), mongodb_url=auth_mongo.users.url_for(service))

    async with (
        RunningService(REGISTRY, own("registry")) as registry,
        RunningService(REVIEWS, own("reviews")) as reviews,
    ):
        command = c.CreateNetwork(
            command_id=new_id(), actor="test:mongoauth", scope="national", country="BD", network_name="UN Network BD"
        )
        assert (await registry.client.command(command)).aggregate_id == "nat-bd"

        async def listed():
            result = await registry.client.query(c.ListNetworks(country="BD"))
            return result if result["total"] else None

        assert (await eventually(listed, timeout=20))["items"][0]["name"] == "UN Network BD"

        async def mirrored():
            rows = await reviews.client.admin("reviews", "projections.status")
            row = next(r for r in rows if r["projection"] == "registry-networks")
            return row if row["applied_seq"] and row["applied_seq"] >= 1 else None

        await eventually(mirrored, timeout=20)  # the reviews mirror, written as the reviews user
        # A rebuild (the runbook's restore path) clears and refills the read model: readWrite is enough.
        [rebuilt] = await registry.client.admin("registry", "projections.rebuild", {"projections": ["networks"]})
        assert rebuilt["projection"] == "networks" and rebuilt["documents"] == 1
        assert (await eventually(listed, timeout=20))["total"] == 1
        for service in (registry, reviews):
            report = await asyncio.to_thread(_readyz, service.admin_http)
            assert report["ready"] is True, report
            assert report["checks"]["mongodb"] == {"ok": True, "detail": "answers"}


def _readyz(base: str) -> dict:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=3) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503 while not ready, with the same report
        return json.loads(exc.read())


async def test_a_wrong_password_keeps_the_service_unready_with_the_reason_and_no_secret(
    auth_mongo, servers, fresh_nats, db_prefix, tmp_path
):
    wrong = "pwrongmongopassword1"
    url = dataclasses.replace(auth_mongo.users, passwords={**auth_mongo.users.passwords, "registry": wrong})
    admin_port = free_port()
    env = servers.env_for(
        "registry",
        nats=fresh_nats,
        MONGODB_URL=url.url_for("registry"),
        MIGNET_DB_PREFIX=db_prefix,
        MIGNET_ADMIN_PORT=str(admin_port),
        MIGNET_STARTUP_TIMEOUT="8",
        MIGNET_LOG_FORMAT="json",
    )
    process = ManagedProcess(
        "registry", [sys.executable, "-m", "mignet_registry"], env=env, log_path=tmp_path / "registry.log"
    ).start()
    try:

        async def refused():
            try:
                report = await asyncio.to_thread(_readyz, f"http://127.0.0.1:{admin_port}")
            except OSError:
                return None  # the admin port is not up yet
            return report if "refused the credentials" in json.dumps(report) else None

        report = await eventually(refused, timeout=20, interval=0.2)
        assert report["ready"] is False
        assert report["checks"]["started"]["detail"] == (
            f"starting: waiting for MongoDB at mongodb://***@127.0.0.1:{auth_mongo.users.port}/?authSource=admin:"
            " MongoDB refused the credentials in MONGODB_URL (AuthenticationFailed, code 18):"
            " check its user, password and authSource"
        )
        for _ in range(300):
            if not process.is_running:
                break
            await asyncio.sleep(0.1)
        assert process.returncode not in (None, 0), "it gives up after MIGNET_STARTUP_TIMEOUT"
    finally:
        process.stop(5)
    log = process.log_tail(10_000)
    assert "Traceback" not in log and wrong not in log, log
    assert sum("refused the credentials in MONGODB_URL" in line for line in log.splitlines()) == 2, log  # ERROR, exit
    assert all(password not in log for password in auth_mongo.users.passwords.values())


async def test_the_cluster_url_options_hold_for_every_read_model_write(auth_mongo, fresh_nats, settings_for):
    """deploy/compose.cluster.yml's options on a service's own user: projections and checkpoints are written
    journaled *and* with w=majority (not the w=1 a collection-level write concern would otherwise pin), and
    the queries read with majority read concern from the primary (SecantusDB advertises a one-member set)."""
    options = "&w=majority&wtimeoutMS=5000&readConcernLevel=majority&readPreference=primary"
    settings = dataclasses.replace(settings_for(fresh_nats), mongodb_url=auth_mongo.users.url_for("registry") + options)
    async with RunningService(REGISTRY, settings) as registry:
        command = c.CreateNetwork(
            command_id=new_id(), actor="test:mongoauth", scope="national", country="KE", network_name="UN Network KE"
        )
        await registry.client.command(command)

        async def listed():
            result = await registry.client.query(c.ListNetworks(country="KE"))
            return result if result["total"] else None

        assert (await eventually(listed, timeout=20))["items"][0]["name"] == "UN Network KE"
        runner = registry.runtime.runners["networks"]
        assert runner.collection.write_concern.document == {"w": "majority", "wtimeout": 5000, "j": True}
        assert registry.runtime.db.read_concern.level == "majority"


def test_a_database_from_before_authentication_keeps_its_read_models(tmp_path, db_prefix):
    """A var/ from before this change: an open SecantusDB with data and no users gets them, data intact."""
    from mignet_runtime.localstack import start_secantus

    database = f"{db_prefix}_registry"
    process, url = start_secantus(tmp_path / "mongo", log_path=tmp_path / "open.log")
    try:
        with _client(url) as open_client:
            open_client[database].networks.insert_one({"_id": "nat-bd"})
    finally:
        process.stop(10)
    process, users, steps = start_authenticated_secantus(
        tmp_path / "mongo", {"registry": database}, tmp_path / "mongo-passwords.env", log_path=tmp_path / "auth.log"
    )
    try:
        assert steps == [
            "user admin: root (set while the server ran once without --auth)",
            f"user registry: readWrite on {database} (created)",
        ]
        with _client(users.url_for("registry")) as registry:
            assert registry[database].networks.find_one() == {"_id": "nat-bd"}
        with _client(users.plain_url) as anonymous:
            assert _refused(lambda: anonymous[database].networks.find_one()) == 13
    finally:
        process.stop(10)
