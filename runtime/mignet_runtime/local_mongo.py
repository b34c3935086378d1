"""SecantusDB with authentication for ``make run``: an admin user, and one user per service.

Each service's user may read and write its own database (``<prefix>_<service>``, role ``readWrite``) and
nothing else, as in compose (deploy/mongo/create-users.js). Passwords are generated once into
``var/mongo-passwords.env`` (mode 0600; ``ADMIN_MONGO_PASSWORD``, ``REGISTRY_MONGO_PASSWORD``, ...).

SecantusDB (0.7) has SCRAM-SHA-256 with ``--auth``, ``createUser``/``updateUser``/``dropUser`` and the
built-in roles bound to one database, but no localhost exception: the first user can only be created
while it runs without ``--auth``. So when the admin user cannot log in (a new ``var/``, one from before
authentication, or a deleted passwords file) the server is started once without ``--auth`` on a free
loopback port, the admin user is created (or given its new password), and the server is restarted with
``--auth``. Then, as admin, every service's user is created or brought in line with the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from pymongo import MongoClient
from pymongo.errors import OperationFailure

from mignet_runtime.localstack import (
    ManagedProcess,
    StartupError,
    free_port,
    load_or_create_dev_passwords,
    start_secantus,
)
from mignet_runtime.mongo_access import AUTHENTICATION_FAILED

ADMIN_USER = "admin"
#: The users and the passwords file's variables: ``<USER>_MONGO_PASSWORD``.
PASSWORD_SUFFIX = "MONGO_PASSWORD"
PASSWORDS_FILE = "mongo-passwords.env"


@dataclass(frozen=True)
class MongoUsers:
    """Where the server listens and each user's password; ``url_for(user)`` is that user's ``MONGODB_URL``."""

    host: str
    port: int
    passwords: Mapping[str, str]

    def url_for(self, user: str) -> str:
        password = quote_plus(self.passwords[user])
        return f"mongodb://{quote_plus(user)}:{password}@{self.host}:{self.port}/?authSource=admin"

    @property
    def plain_url(self) -> str:
        return f"mongodb://{self.host}:{self.port}"


def _client(url: str) -> MongoClient[dict[str, Any]]:
    return MongoClient(url, serverSelectionTimeoutMS=5000)


def service_roles(database: str) -> list[dict[str, str]]:
    """A service's rights: read and write its own database, nothing else (no other database, no cluster action)."""
    return [{"role": "readWrite", "db": database}]


def upsert_user(
    client: MongoClient[dict[str, Any]], user: str, password: str, roles: list[dict[str, str]], url: str | None = None
) -> str:
    """Creates ``user`` in ``admin``, or sets its password and roles; says which. With ``url`` (the user's
    own), a user whose roles match and who logs in with ``password`` is left alone: ``unchanged``."""
    admin = client.get_database("admin")
    found = admin.command("usersInfo", user)["users"]
    if not found:
        admin.command("createUser", user, pwd=password, roles=roles)
        return "created"
    if url is not None and found[0].get("roles") == roles and _logs_in(url):
        return "unchanged"
    admin.command("updateUser", user, pwd=password, roles=roles)
    return "updated"


def _logs_in(url: str) -> bool:
    with _client(url) as client:
        try:
            client.admin.command("ping")
        except OperationFailure as exc:
            if exc.code == AUTHENTICATION_FAILED:
                return False
            raise
    return True


def ensure_service_users(users: MongoUsers, databases: Mapping[str, str]) -> list[str]:
    """As admin: each service's user with ``readWrite`` on its own database only, its password from the file."""
    done = []
    with _client(users.url_for(ADMIN_USER)) as client:
        for service, database in databases.items():
            roles = service_roles(database)
            outcome = upsert_user(client, service, users.passwords[service], roles, users.url_for(service))
            done.append(f"user {service}: readWrite on {database} ({outcome})")
    return done


def admin_can_log_in(users: MongoUsers) -> bool:
    return _logs_in(users.url_for(ADMIN_USER))


def _bootstrap_admin(data_dir: Path, password: str, log_path: Path) -> None:
    """The one way to a first user on SecantusDB: a short run without --auth, on a free loopback port."""
    proc, url = start_secantus(data_dir, port=free_port(), log_path=log_path)
    try:
        with _client(url) as client:
            upsert_user(client, ADMIN_USER, password, [{"role": "root", "db": "admin"}])
    finally:
        proc.stop(10)


def start_authenticated_secantus(
    data_dir: str | os.PathLike[str],
    databases: Mapping[str, str],
    passwords_file: Path,
    port: int | None = None,
    log_path: str | os.PathLike[str] | None = None,
) -> tuple[ManagedProcess, MongoUsers, list[str]]:
    """SecantusDB with ``--auth``, an admin user and one user per service in ``databases`` (service -> database).

    Returns the process, the users (``url_for(service)`` is what that service gets as ``MONGODB_URL``) and
    what was done, one line per step."""
    data = Path(data_dir)
    log = Path(log_path) if log_path else data.with_name(data.name + ".log")
    names: Sequence[str] = (ADMIN_USER, *databases)
    passwords = load_or_create_dev_passwords(passwords_file, names, PASSWORD_SUFFIX)
    steps: list[str] = []
    proc, url = start_secantus(data, port=port, log_path=log, auth=True)
    users = MongoUsers("127.0.0.1", int(url.rsplit(":", 1)[1]), passwords)
    try:
        if not admin_can_log_in(users):
            proc.stop(10)
            _bootstrap_admin(data, passwords[ADMIN_USER], log)
            steps.append("user admin: root (set while the server ran once without --auth)")
            proc, _ = start_secantus(data, port=users.port, log_path=log, auth=True)
            if not admin_can_log_in(users):
                raise StartupError(f"SecantusDB refuses the admin user just set up; see {log}")
        steps += ensure_service_users(users, databases)
    except BaseException:
        proc.stop(5)
        raise
    return proc, users, steps


def start_for_stack(
    data_dir: Path, log_dir: Path, port: int, services: Sequence[str]
) -> tuple[ManagedProcess, MongoUsers, list[str]]:
    """``make run``'s SecantusDB: data in ``<data_dir>/mongo``, passwords in ``<data_dir>/mongo-passwords.env``."""
    from mignet_runtime.settings import Settings

    settings = Settings(db_prefix=os.environ.get("MIGNET_DB_PREFIX") or Settings.db_prefix)
    databases = {name: settings.database(name) for name in services}
    return start_authenticated_secantus(
        data_dir / "mongo", databases, data_dir / PASSWORDS_FILE, port=port, log_path=log_dir / "secantus.log"
    )
