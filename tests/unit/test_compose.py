"""docker-compose.yml is a valid Compose file, checked without Docker.

The file is interpolated the way `docker compose config` does (``${VAR}``, ``${VAR:-default}``,
``${VAR:?error}``) and validated against the Compose Specification's own JSON Schema, vendored
in ``tests/fixtures/compose-spec.json`` (compose-spec/compose-spec at 170098b, Apache-2.0).
Then the facts the deployment relies on: streams are provisioned by a one-shot step the
services wait for, each service connects as its own NATS user, monitoring stays private.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "compose-spec.json").read_text())
PASSWORDS = {
    f"{user}_NATS_PASSWORD": f"pw-{user.lower()}"
    for user in ("REGISTRY", "REVIEWS", "NOTIFIER", "OPERATOR", "INTEGRATOR", "ADMIN", "SYS")
} | {"NOTIFIER_SECRET_KEY": "key-of-at-least-16-chars"}
MONGO_PASSWORDS = {f"{user}_MONGO_PASSWORD": f"mpw{user.lower()}" for user in ("REGISTRY", "REVIEWS", "NOTIFIER")} | {
    "MONGO_ROOT_PASSWORD": "mpwroot"
}
PASSWORDS |= MONGO_PASSWORDS
#: The overlay's extra: the replica set's key file (a path, not a secret in itself).
CLUSTER = PASSWORDS | {"MONGO_KEYFILE": "./mongo-keyfile"}
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        value = env.get(name)
        empty = value is None or (value == "" and operator and operator.startswith(":"))
        if operator in (":-", "-") and empty:
            return argument
        if operator in (":?", "?") and empty:
            raise MissingVariable(f"{name}: {argument}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


def compose(env: dict[str, str] | None = None) -> dict:
    return yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text(), PASSWORDS if env is None else env))


def validate(document: dict) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(document)


def test_the_compose_file_is_valid_against_the_compose_specification():
    validate(compose())


def test_the_validator_has_teeth():
    broken = copy.deepcopy(compose())
    broken["services"]["registry"]["depend_on"] = ["nats"]  # a typo compose would refuse
    with pytest.raises(jsonschema.ValidationError, match="depend_on"):
        validate(broken)


def test_every_password_must_be_set():
    for missing in PASSWORDS:
        with pytest.raises(MissingVariable, match=missing):
            compose({k: v for k, v in PASSWORDS.items() if k != missing})


def test_services_wait_for_a_one_shot_provisioning_step_run_as_admin():
    services = compose()["services"]
    provision = services["provision"]
    assert provision["command"][-2:] == ["admin", "provision"]
    assert provision["environment"]["NATS_USER"] == "admin"
    assert provision["environment"]["NATS_PASSWORD"] == "pw-admin"
    assert provision["restart"] == "no"
    for name in ("registry", "reviews"):
        assert services[name]["depends_on"]["provision"] == {"condition": "service_completed_successfully"}
        # The stream settings a service verifies are the ones provisioning set.
        for variable in ("MIGNET_DUPLICATE_WINDOW_HOURS", "MIGNET_LEASE_SECONDS"):
            assert services[name]["environment"][variable] == provision["environment"][variable]


def test_each_service_connects_as_its_own_nats_user():
    services = compose()["services"]
    for name in ("registry", "reviews"):
        env = services[name]["environment"]
        assert (env["NATS_USER"], env["NATS_PASSWORD"]) == (name, f"pw-{name}")


def test_monitoring_is_not_published_and_nats_clients_bind_to_loopback_by_default():
    nats = compose()["services"]["nats"]
    ports = [str(p) for p in nats.get("ports", [])]
    assert not any("8222" in p for p in ports)
    assert ports == ["127.0.0.1:4222:4222"]


def overlay(env: dict[str, str] | None = None) -> dict:
    text = (ROOT / "deploy" / "compose.cluster.yml").read_text()
    return yaml.safe_load(interpolate(text, CLUSTER if env is None else env))


def merged(base: dict, over: dict) -> dict:
    """Compose's merge for what these tests read: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_the_cluster_overlay_is_valid_and_needs_every_password():
    validate(overlay())
    validate(merged(compose(), overlay()))
    for missing in ("ADMIN_NATS_PASSWORD", "MONGO_KEYFILE", *MONGO_PASSWORDS):
        with pytest.raises(MissingVariable, match=missing):
            overlay({k: v for k, v in CLUSTER.items() if k != missing})


def test_the_cluster_overlay_runs_three_nats_nodes_routed_to_each_other():
    services = merged(compose(), overlay())["services"]
    nodes = {name: services[name]["command"] for name in ("nats", "nats-2", "nats-3")}
    names = set()
    for service, argv in nodes.items():
        options = dict(zip(argv[1::2], argv[2::2], strict=False))
        assert options["--config"] == "/etc/nats/mignet.conf"
        assert options["--cluster_name"] == "mignet"
        names.add(options["--name"])
        routes = {r.split("//")[1].split(":")[0] for r in options["--routes"].split(",")}
        assert routes == set(nodes) - {service}, f"{service} must route to the two others"
        assert "./deploy/nats/nats.conf:/etc/nats/mignet.conf:ro" in services[service]["volumes"]
    assert len(names) == 3, "JetStream places replicas by server name: each node needs its own"


def test_in_the_cluster_streams_have_three_replicas_and_services_know_every_node():
    services = merged(compose(), overlay())["services"]
    assert services["provision"]["environment"]["MIGNET_STREAM_REPLICAS"] == 3
    for name in ("provision", "registry", "reviews", "notifier"):
        urls = services[name]["environment"]["NATS_URL"].split(",")
        assert [u.split("//")[1].split(":")[0] for u in urls] == ["nats", "nats-2", "nats-3"]
    for name in ("registry", "reviews", "notifier"):
        env = services[name]["environment"]
        url = urlsplit(env["MONGODB_URL"])
        assert url.hostname == "mongo" and url.netloc.endswith("@mongo:27017,mongo-2:27017,mongo-3:27017")
        # Majority writes, and reads of one's own writes: majority read concern on the primary.
        assert parse_qs(url.query) == {
            "replicaSet": ["mignet"],
            "authSource": ["admin"],
            "w": ["majority"],
            "readConcernLevel": ["majority"],
            "readPreference": ["primary"],
        }
        assert env["NATS_USER"] == name  # the base file's credentials survive the merge
        assert services[name]["depends_on"]["mongo-init"] == {"condition": "service_completed_successfully"}


def test_jetstream_fsyncs_every_write_in_every_deployment():
    """One nats.conf for make run, the tests, compose and the cluster: an acknowledged event is on disk."""
    conf = (ROOT / "deploy" / "nats" / "nats.conf").read_text()
    jetstream = conf[conf.index("jetstream {") : conf.index("}", conf.index("jetstream {"))]
    assert re.search(r"^\s*sync_interval:\s*always\s*$", jetstream, re.MULTILINE)


def test_every_service_is_healthy_only_when_its_readyz_says_ready():
    services = compose()["services"]
    for name in ("registry", "reviews"):
        service = services[name]
        port = service["environment"]["MIGNET_ADMIN_PORT"]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"]), name
        assert service["environment"]["MIGNET_ADMIN_HOST"] == "0.0.0.0"  # Prometheus scrapes it on the network
        assert not any(str(port) in str(p) for p in service.get("ports", [])), "the admin port is not published"
    assert services["reviews"]["depends_on"]["registry"] == {"condition": "service_healthy"}
    assert services["reviews"]["depends_on"]["provision"] == {"condition": "service_completed_successfully"}


def test_every_cluster_node_gets_every_password_the_single_server_gets():
    """nats.conf refuses to start without each user's password: a node missing one would never join."""
    services = merged(compose(), overlay())["services"]
    wanted = set(compose()["services"]["nats"]["environment"])
    for node in ("nats", "nats-2", "nats-3"):
        assert wanted <= set(services[node]["environment"]), node


SERVICES = ("registry", "reviews", "notifier")


def _mongo_user(url: str) -> tuple[str | None, str | None]:
    parts = urlsplit(url)
    return parts.username, parts.password


@pytest.mark.parametrize("document", ["single", "cluster"])
def test_each_service_logs_in_to_mongodb_as_its_own_user(document):
    services = compose()["services"] if document == "single" else merged(compose(), overlay())["services"]
    seen = set()
    for name in SERVICES:
        url = services[name]["environment"]["MONGODB_URL"]
        # Its own user and its own password, never another service's (nor root's).
        assert _mongo_user(url) == (name, f"mpw{name}"), name
        assert parse_qs(urlsplit(url).query)["authSource"] == ["admin"]
        seen.add(_mongo_user(url))
    assert len(seen) == len(SERVICES)
    for name in ("nats", "provision"):
        assert "MONGODB_URL" not in services[name].get("environment", {}), f"{name} has no business in MongoDB"


def test_mongodb_starts_with_a_root_user_and_the_init_script_creating_one_user_per_service():
    mongo = compose()["services"]["mongo"]
    env = mongo["environment"]
    assert env["MONGO_INITDB_ROOT_USERNAME"] == "root" and env["MONGO_INITDB_ROOT_PASSWORD"] == "mpwroot"
    assert {k: env[k] for k in MONGO_PASSWORDS if k != "MONGO_ROOT_PASSWORD"} == {
        f"{s.upper()}_MONGO_PASSWORD": f"mpw{s}" for s in SERVICES
    }
    assert "./deploy/mongo/create-users.js:/docker-entrypoint-initdb.d/10-create-users.js:ro" in mongo["volumes"]
    script = (ROOT / "deploy" / "mongo" / "create-users.js").read_text()
    assert 'const services = ["registry", "reviews", "notifier"];' in script  # the services of the compose file


def test_the_replica_set_authenticates_its_members_with_a_key_file_and_creates_users_after_initiating():
    services = merged(compose(), overlay())["services"]
    members = ("mongo", "mongo-2", "mongo-3")
    for name in members:
        member = services[name]
        argv = member["command"]
        assert argv[argv.index("--keyFile") + 1] == "/data/configdb/keyfile" and "--replSet" in argv
        assert member["secrets"] == ["mongo_keyfile"]
        assert "install -m 0400 -o mongodb" in member["entrypoint"][2]
    # Only the first member runs the image's init (root user, service users): rs.initiate needs the others empty.
    for name in ("mongo-2", "mongo-3"):
        assert "environment" not in services[name] and not any("initdb" in v for v in services[name]["volumes"])
    assert overlay()["secrets"] == {"mongo_keyfile": {"file": "./mongo-keyfile"}}
    init = services["mongo-init"]
    script = init["command"][0]
    assert script.index("init-replica-set.js") < script.index("create-users.js")
    assert {k for k in init["environment"] if k.startswith("MONGO_") or "_MONGO_" in k} >= set(MONGO_PASSWORDS)
    assert init["depends_on"] == {m: {"condition": "service_healthy"} for m in members}


#: A variable named like a password or key given a value on its line: `X_PASSWORD: value`, `X_PASSWORD=value`.
_ASSIGNED = re.compile(r"(?im)^[ \t]*(?:-[ \t]*)?\w*(?:PASSWORD|SECRET_KEY)\w*[ \t]*[:=][ \t]*(\S*)")
#: A password inside a URL, `scheme://user:password@host`.
_IN_URL = re.compile(r"://[^:/\s@]+:([^@\s]+)@")
#: mongosh's `pwd:` field (create-users.js passes the value it read from the environment).
_PWD_FIELD = re.compile(r"\bpwd\s*:\s*([^,}\s]+)")


@pytest.mark.parametrize(
    "path",
    [
        "docker-compose.yml",
        "deploy/compose.cluster.yml",
        "deploy/.env.example",
        "deploy/mongo/create-users.js",
        "deploy/mongo/init-replica-set.js",
    ],
)
def test_no_password_literal_is_committed(path):
    """Every password is a variable the operator sets: `${VAR:?...}` in compose, empty in .env.example."""
    lines = (ROOT / path).read_text().splitlines()
    # Comments may show the shape of a value (`smtp://user:password@relay...`); code may not carry one.
    text = "\n".join(line for line in lines if not line.lstrip().startswith(("#", "//")))
    literals = [v for v in _ASSIGNED.findall(text) if v and not v.startswith("${")]
    literals += [v for v in _IN_URL.findall(text) if not v.startswith("${")]
    literals += [v for v in _PWD_FIELD.findall(text) if v != "pwd"]
    assert literals == [], path


def test_the_literal_check_has_teeth():
    leaked = "  MONGODB_URL: mongodb://registry:hunter2@mongo:27017/\n  MONGO_INITDB_ROOT_PASSWORD: example\n"
    assert _IN_URL.findall(leaked) == ["hunter2"] and _ASSIGNED.findall(leaked) == ["example"]
    assert _ASSIGNED.findall("REGISTRY_MONGO_PASSWORD=p0123\nREVIEWS_MONGO_PASSWORD=\n") == ["p0123", ""]
    assert _PWD_FIELD.findall('admin.createUser({ user: "x", pwd: "secret", roles })') == ['"secret"']
