"""deploy/mongo/create-users.js, the compose init script, gives each service the user its MONGODB_URL names.

No Docker here, so no mongosh either: Node runs the script itself, with the two mongosh names it uses
(`db.getSiblingDB("admin")`, `print`) recording the user commands it issues, and the test replays them
as the root user against a real SecantusDB running with --auth. Then the very MONGODB_URL each service
gets in docker-compose.yml (its host pointed at that server) reads and writes its own database and is
refused (Unauthorized, 13) the others'.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mignet_runtime.local_mongo import ADMIN_USER, start_authenticated_secantus

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "mongo" / "create-users.js"
SERVICES = ("registry", "reviews", "notifier")
NODE = shutil.which("node")

#: The mongosh names the script uses; each user command is recorded, not executed.
SHELL = r"""
const fs = require("fs"), vm = require("vm");
const existing = new Set(JSON.parse(process.argv[2]));
const calls = [];
const admin = {
  getUser: (user) => (existing.has(user) ? { user } : null),
  createUser: (doc) => calls.push({ command: "createUser", user: doc.user, pwd: doc.pwd, roles: doc.roles }),
  updateUser: (user, doc) => calls.push({ command: "updateUser", user, pwd: doc.pwd, roles: doc.roles }),
};
const db = { getSiblingDB: (name) => { if (name !== "admin") throw new Error(`not admin: ${name}`); return admin; } };
const printed = [];
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), { db, process, print: (s) => printed.push(s) });
console.log(JSON.stringify({ calls, printed }));
"""


def run_script(env: dict[str, str], existing: list[str]) -> subprocess.CompletedProcess:
    if NODE is None:
        pytest.skip("needs node to run deploy/mongo/create-users.js (mongosh's language) without Docker")
    return subprocess.run(
        [NODE, "-e", SHELL, "--", str(SCRIPT), json.dumps(existing)],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def compose_urls(env: dict[str, str], host: str) -> dict[str, str]:
    """Each service's MONGODB_URL in docker-compose.yml, interpolated, at ``host`` instead of ``mongo:27017``."""
    text = (ROOT / "docker-compose.yml").read_text()
    urls = {}
    for service in SERVICES:
        [line] = re.findall(rf"^\s+MONGODB_URL: (mongodb://{service}:.*)$", text, re.MULTILINE)
        url = re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: env[m.group(1)], line)
        urls[service] = url.replace("@mongo:27017/", f"@{host}/")
    return urls


@pytest.fixture
def root_only(tmp_path):
    process, users, _ = start_authenticated_secantus(tmp_path / "mongo", {}, tmp_path / "mongo-passwords.env")
    yield users
    process.stop(10)


def replay(admin_url: str, calls: list[dict]) -> None:
    with MongoClient(admin_url, serverSelectionTimeoutMS=3000) as client:
        for call in calls:
            client.admin.command(call["command"], call["user"], pwd=call["pwd"], roles=call["roles"])


def test_the_init_script_creates_the_users_the_compose_urls_log_in_as(root_only, db_prefix):
    env = {f"{s.upper()}_MONGO_PASSWORD": f"mpw{s}{db_prefix}" for s in SERVICES} | {"MIGNET_DB_PREFIX": db_prefix}
    first = run_script(env, existing=[])
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert [c["command"] for c in result["calls"]] == ["createUser"] * 3
    assert result["printed"][0] == f"user registry: readWrite on {db_prefix}_registry (created)"
    replay(root_only.url_for(ADMIN_USER), result["calls"])

    urls = compose_urls(env, f"127.0.0.1:{root_only.port}")
    for service, url in urls.items():
        with MongoClient(url, serverSelectionTimeoutMS=3000) as client:
            client[f"{db_prefix}_{service}"].probe.insert_one({"_id": service})
            for other in SERVICES:
                if other == service:
                    continue
                with pytest.raises(OperationFailure) as refused:
                    client[f"{db_prefix}_{other}"].probe.find_one()
                assert refused.value.code == 13, (service, other)

    # Run again (every `up` of the cluster overlay does): the users are updated, a new password wins.
    env["REVIEWS_MONGO_PASSWORD"] = "mpwrotated"
    again = run_script(env, existing=list(SERVICES))
    assert [c["command"] for c in json.loads(again.stdout)["calls"]] == ["updateUser"] * 3
    replay(root_only.url_for(ADMIN_USER), json.loads(again.stdout)["calls"])
    with MongoClient(compose_urls(env, f"127.0.0.1:{root_only.port}")["reviews"]) as client:
        assert client[f"{db_prefix}_reviews"].probe.find_one() == {"_id": "reviews"}


def test_the_init_script_refuses_to_run_without_a_password(db_prefix):
    env = {"REGISTRY_MONGO_PASSWORD": "mpw1", "NOTIFIER_MONGO_PASSWORD": "mpw3"}
    result = run_script(env, existing=[])
    assert result.returncode != 0
    assert "REVIEWS_MONGO_PASSWORD is not set: every service needs a MongoDB password" in result.stderr
