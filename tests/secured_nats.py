"""Test nats-servers that run deploy/nats/nats.conf itself, with generated passwords, provisioned.

Shared by the fixtures in ``tests/conftest.py``, ``tests/integration/conftest.py`` and
``tests/e2e/conftest.py`` (``tests/`` is on ``sys.path`` through the root conftest).
"""

from __future__ import annotations

from pathlib import Path

from mignet_runtime.localstack import ManagedProcess, dev_passwords, provision_local, start_secured_nats

#: Test servers by plain URL, so a harness given a service's own Settings can still act as admin.
_STARTED: dict[str, NatsUrl] = {}


def admin_url(url: str) -> str:
    """The admin URL of a test server given by its plain URL (as in a service's Settings); else ``url``."""
    return url if getattr(url, "passwords", None) else _STARTED.get(url, url)


class NatsUrl(str):
    """A test nats-server's URL: as a string, with the admin user's credentials embedded (full rights)."""

    plain: str
    passwords: dict[str, str]

    def __new__(cls, plain: str, passwords: dict[str, str]) -> NatsUrl:
        url = super().__new__(cls, _with_credentials(plain, "admin", passwords["admin"]))
        url.plain, url.passwords = plain, dict(passwords)
        _STARTED[plain] = url
        return url

    def url_for(self, user: str) -> str:
        return _with_credentials(self.plain, user, self.passwords[user])

    def credentials(self, user: str) -> dict[str, str]:
        return {"nats_url": self.plain, "nats_user": user, "nats_password": self.passwords[user]}

    def env_for(self, user: str) -> dict[str, str]:
        return {"NATS_URL": self.plain, "NATS_USER": user, "NATS_PASSWORD": self.passwords[user]}

    def __repr__(self) -> str:  # never print the admin password in a failure report
        return f"NatsUrl({self.plain!r})"


def _with_credentials(url: str, user: str, password: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


def start_test_nats(
    store_dir: Path, port: int | None = None, log_path: Path | None = None, passwords: dict[str, str] | None = None
) -> tuple[ManagedProcess, NatsUrl]:
    """nats-server on deploy/nats/nats.conf with fresh passwords, provisioned as production is."""
    passwords = passwords or dev_passwords()
    proc, plain = start_secured_nats(store_dir, passwords, port=port, log_path=log_path)
    try:
        provision_local(plain, passwords["admin"])
    except BaseException:
        proc.stop(5)
        raise
    return proc, NatsUrl(plain, passwords)
