"""A virtualenv holding only ``pip install ./contracts``: what an integrator has (issue 9.2, 9.8)."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


def make_contracts_venv(root: Path) -> Path:
    """Create ``root/venv`` with ./contracts installed from a copy (the source tree stays clean); its python."""
    source = root / "contracts"
    shutil.copytree(
        CONTRACTS, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "node_modules")
    )
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return python


_SHARED: dict[str, Path] = {}


def shared_contracts_venv(tmp_path_factory) -> Path:
    """One such virtualenv per test session (creating it takes about 15 s)."""
    if "python" not in _SHARED:
        _SHARED["python"] = make_contracts_venv(tmp_path_factory.mktemp("contracts-venv"))
    return _SHARED["python"]


def installed(python: Path) -> set[str]:
    """Distribution names in that virtualenv, lower case."""
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=python.parent,
    ).stdout
    return {name.strip().lower().replace("_", "-") for name in out.split()}


def run(
    python: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    # From the venv's own directory: the repository's *.egg-info in the working directory would show up.
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=python.parent
    )
