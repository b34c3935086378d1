"""NATS credentials from the environment: one form at a time, files not values, FastStream's security objects."""

from __future__ import annotations

import pytest
from faststream.nats import NatsCredentials, NatsNKey, NatsToken, NatsUserPassword

from mignet_runtime.settings import Settings, nats_credentials_from_env, redact_url

NATS_VARIABLES = (
    "NATS_URL",
    "NATS_USER",
    "NATS_PASSWORD",
    "NATS_TOKEN",
    "NATS_CREDS",
    "NATS_NKEY_SEED",
    "NATS_INBOX_PREFIX",
)


@pytest.fixture
def env(monkeypatch):
    for name in NATS_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "registry.nk"
    path.write_text("SUAM...not checked until connect\n")
    return str(path)


def test_no_credentials_for_an_open_local_server(env):
    settings = Settings.from_env()
    assert settings.nats_security() is None
    assert settings.nats_connect_options("registry") == {
        "servers": ["nats://127.0.0.1:4222"],
        "inbox_prefix": "_INBOX_registry",
    }


def test_user_and_password_become_faststreams_security_object_and_the_same_connect_options(env):
    env(NATS_USER="registry", NATS_PASSWORD="p123")
    settings = Settings.from_env()
    security = settings.nats_security()
    assert isinstance(security, NatsUserPassword)
    assert (security.username, security.password) == ("registry", "p123")
    options = settings.nats_connect_options("registry")
    assert options["user"] == "registry" and options["password"] == "p123"


def test_a_token(env):
    env(NATS_TOKEN="t0ken")
    settings = Settings.from_env()
    assert isinstance(settings.nats_security(), NatsToken)
    assert settings.nats_connect_options("registry")["token"] == "t0ken"


def test_creds_and_nkey_seed_are_files(env, seed_file):
    env(NATS_CREDS=seed_file)
    settings = Settings.from_env()
    assert isinstance(settings.nats_security(), NatsCredentials)
    assert settings.nats_connect_options("registry")["user_credentials"] == seed_file

    env(NATS_CREDS="")
    env(NATS_NKEY_SEED=seed_file)
    settings = Settings.from_env()
    security = settings.nats_security()
    assert isinstance(security, NatsNKey) and security.seed_is_file
    assert settings.nats_connect_options("registry")["nkeys_seed"] == seed_file


@pytest.mark.parametrize("variable", ["NATS_CREDS", "NATS_NKEY_SEED"])
def test_a_missing_credentials_file_is_a_clear_error(env, tmp_path, variable):
    env(**{variable: str(tmp_path / "nope")})
    with pytest.raises(SystemExit, match=f"{variable} must name a readable file"):
        Settings.from_env()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"NATS_USER": "registry"}, "NATS_USER is set without NATS_PASSWORD"),
        ({"NATS_PASSWORD": "p1"}, "NATS_PASSWORD is set without NATS_USER"),
        (
            {"NATS_USER": "registry", "NATS_PASSWORD": "p1", "NATS_TOKEN": "t"},
            "not NATS_USER/NATS_PASSWORD and NATS_TOKEN",
        ),
        ({"NATS_TOKEN": "t", "NATS_NKEY_SEED": "SEED"}, "not NATS_TOKEN and NATS_NKEY_SEED"),
        ({"NATS_URL": "nats://a:b@host:4222", "NATS_TOKEN": "t"}, "NATS_URL carries credentials"),
    ],
)
def test_credentials_combined_wrongly_are_refused(env, seed_file, values, message):
    env(**{k: (seed_file if k in ("NATS_CREDS", "NATS_NKEY_SEED") else v) for k, v in values.items()})
    with pytest.raises(SystemExit, match=message):
        Settings.from_env()


def test_the_inbox_prefix_follows_the_user_unless_set(env):
    env(NATS_USER="operator", NATS_PASSWORD="p1")
    assert nats_credentials_from_env("operator")["inbox_prefix"] == "_INBOX_operator"
    env(NATS_USER="admin")
    assert nats_credentials_from_env("operator")["inbox_prefix"] == "_INBOX_admin"
    env(NATS_INBOX_PREFIX="_INBOX_custom")
    assert nats_credentials_from_env("operator")["inbox_prefix"] == "_INBOX_custom"
    assert "servers" not in nats_credentials_from_env("operator")


def test_urls_in_logs_carry_no_password():
    assert redact_url("nats://admin:s3cret@127.0.0.1:4222") == "nats://***@127.0.0.1:4222"
    assert redact_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert "s3cret" not in Settings(nats_url="tls://u:s3cret@host:4222/x").nats_url_for_logs


def test_lease_seconds_from_the_environment(env, monkeypatch):
    monkeypatch.setenv("MIGNET_LEASE_SECONDS", "25")
    assert Settings.from_env().lease_seconds == 25
    monkeypatch.setenv("MIGNET_LEASE_SECONDS", "0")
    with pytest.raises(SystemExit, match="MIGNET_LEASE_SECONDS"):
        Settings.from_env()
