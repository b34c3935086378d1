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

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "compose-spec.json").read_text())
PASSWORDS = {
    f"{user}_NATS_PASSWORD": f"pw-{user.lower()}"
    for user in ("REGISTRY", "REVIEWS", "NOTIFIER", "OPERATOR", "INTEGRATOR", "ADMIN", "SYS")
} | {"NOTIFIER_SECRET_KEY": "key-of-at-least-16-chars"}
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
    return yaml.safe_load(interpolate(text, PASSWORDS if env is None else env))


def merged(base: dict, over: dict) -> dict:
    """Compose's merge for what these tests read: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_the_cluster_overlay_is_valid_and_needs_every_password():
    validate(overlay())
    validate(merged(compose(), overlay()))
    with pytest.raises(MissingVariable, match="ADMIN_NATS_PASSWORD"):
        overlay({k: v for k, v in PASSWORDS.items() if k != "ADMIN_NATS_PASSWORD"})


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
        assert "replicaSet=mignet" in env["MONGODB_URL"] and "w=majority" in env["MONGODB_URL"]
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
