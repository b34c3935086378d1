"""What `make run` gives the notifier locally: a signing key kept under var/, loopback allowed for webhooks,
and an SMTP sink writing to var/mail/."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

#: Local receivers (`http://127.0.0.1:9000/hook`) are allowed in the local stack, never by default elsewhere.
LOCAL_ALLOW_PRIVATE = "127.0.0.1/32,::1/128"


def secret_key(path: Path) -> str:
    """The local notifier's secret key, made once (mode 0600) so webhook secrets survive restarts."""
    if path.is_file() and len(path.read_text().strip()) >= 16:
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def notifier_env(data_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The notifier's variables the environment does not set already."""
    extra: dict[str, str] = {}
    if not env.get("MIGNET_NOTIFIER_SECRET_KEY"):
        extra["MIGNET_NOTIFIER_SECRET_KEY"] = secret_key(data_dir / "notifier-secret-key")
    if "MIGNET_NOTIFIER_ALLOW_PRIVATE" not in env:
        extra["MIGNET_NOTIFIER_ALLOW_PRIVATE"] = LOCAL_ALLOW_PRIVATE
    return extra


def mail_sink(data_dir: Path, port: int) -> tuple[list[str], str]:
    """The command line of the local SMTP sink (mail lands in ``<data_dir>/mail/``) and its URL."""
    folder = data_dir / "mail"
    argv = [sys.executable, "-m", "mignet_runtime.mailsink", "--dir", str(folder), "--port", str(port)]
    return argv, f"smtp://127.0.0.1:{port}"
