"""Running the whole platform on one machine: database, migrations, three services and the
gateway as separate uvicorn processes, and stopping all of it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from inds import migrate
from inds.embedded_db import EmbeddedPostgres
from inds.paths import REPO_ROOT, SERVICES
from services.gateway.tokens.sealing import SETTING as KEY_ENCRYPTION_SETTING
from services.gateway.tokens.sealing import new_key

BACKENDS = ("beneficiaries", "funding", "indicators")
DEMO_CLIENTS: list[dict[str, Any]] = [
    {"client_id": "demo-registrar", "roles": ["registrar"], "regions": ["DJ-DJ", "DJ-AS"]},
    {"client_id": "demo-data-manager", "roles": ["data_manager"]},
    {"client_id": "demo-finance-officer", "roles": ["finance_officer"]},
    {"client_id": "demo-finance-approver", "roles": ["finance_approver"]},
    {"client_id": "demo-me-officer", "roles": ["me_officer"]},
    {"client_id": "demo-analyst", "roles": ["analyst"]},
    {"client_id": "demo-partner", "roles": ["partner"], "partner_id": "wfp"},
    {"client_id": "demo-system", "roles": ["system"]},
]


@dataclass
class StackOptions:
    data_dir: Path
    gateway_port: int = 8000
    host: str = "127.0.0.1"
    database_url: str | None = None
    demo: bool = False
    environment: str = "development"
    admin_secret: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


# A process that dies is started again after 1, 2, 4 ... seconds (at most a minute); one that
# then stays up this long is taken to be well again, and its next failure waits 1 s again.
RESTART_BACKOFF_MAX = 60.0
HEALTHY_AFTER_SECONDS = 60.0


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)
    started_at: float = field(default_factory=time.monotonic)
    failures: int = 0
    restart_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.data_dir = options.data_dir.resolve()
        self.embedded: EmbeddedPostgres | None = None
        self.processes: dict[str, Process] = {}
        self.credentials: dict[str, str] = {}
        self.key_encryption_key: str | None = None
        self.server_url: str | None = None

    # -- start ---------------------------------------------------------------------------

    def start(self, *, wait_seconds: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.server_url = self._start_database()
            asyncio.run(migrate.ensure_databases(self.server_url, {s: s for s in SERVICES}))
            for service, url in migrate.service_database_urls(self.server_url).items():
                migrate.upgrade(service, url)
            self.credentials = self._credentials()
            self.key_encryption_key = self._key_encryption_key()
            self._spawn_all()
            self._write_state()
            self.wait_until_ready(wait_seconds)
        except BaseException:
            self.stop()
            raise

    def _start_database(self) -> str:
        if self.options.database_url:
            return self.options.database_url
        self.embedded = EmbeddedPostgres(self.data_dir / "pg")
        return self.embedded.start()

    def _credentials(self) -> dict[str, str]:
        """The admin secret (given, or made once and kept in the data folder for development)
        and the demo clients' secrets, the same from one run to the next."""
        path = self.data_dir / "dev-credentials.json"
        stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        if self.options.admin_secret:
            stored["admin"] = self.options.admin_secret
        elif "admin" not in stored:
            if self.options.environment == "production":
                raise SystemExit("INDS_BOOTSTRAP_ADMIN_SECRET must be set in production")
            stored["admin"] = secrets.token_urlsafe(24)
        if self.options.demo:
            for client in DEMO_CLIENTS:
                stored.setdefault(client["client_id"], secrets.token_urlsafe(24))
        if self.options.environment != "production":
            path.touch(mode=0o600, exist_ok=True)
            path.write_text(json.dumps(stored, indent=2))
        return stored

    def _key_encryption_key(self) -> str:
        """The key encrypting the gateway's signing keys: given in the environment, or for
        development made once and kept in the data folder (beside the keys' database, so it
        protects a copied database dump, not a copied data folder)."""
        given = self.options.extra_env.get(KEY_ENCRYPTION_SETTING) or os.environ.get(
            KEY_ENCRYPTION_SETTING
        )
        if given:
            return given
        if self.options.environment == "production":
            raise SystemExit(f"{KEY_ENCRYPTION_SETTING} must be set in production")
        path = self.data_dir / "gateway-key-encryption.key"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(new_key())
        return path.read_text().strip()

    def _spawn_all(self) -> None:
        ports = self._ports()
        service_secrets = {name: secrets.token_urlsafe(32) for name in BACKENDS}
        env = self._base_env(ports)
        bootstrap = [
            {
                "client_id": f"svc-{name}",
                "secret": secret,
                "roles": ["service"],
                "name": f"{name} service",
            }
            for name, secret in service_secrets.items()
        ]
        if self.options.demo:
            bootstrap += [
                {**client, "secret": self.credentials[client["client_id"]]}
                for client in DEMO_CLIENTS
            ]
        for name in BACKENDS:
            self._spawn(
                name,
                ports[name],
                {**env, f"INDS_{name.upper()}_CLIENT_SECRET": service_secrets[name]},
            )
        self._spawn(
            "gateway",
            ports["gateway"],
            {
                **env,
                "INDS_BOOTSTRAP_ADMIN_SECRET": self.credentials["admin"],
                KEY_ENCRYPTION_SETTING: self.key_encryption_key or "",
                "INDS_GATEWAY_BOOTSTRAP_CLIENTS": json.dumps(bootstrap),
            },
        )

    def _ports(self) -> dict[str, int]:
        ports = {"gateway": self.options.gateway_port}
        if not _port_free(self.options.host, ports["gateway"]):
            raise SystemExit(f"port {ports['gateway']} is taken: set INDS_GATEWAY_PORT")
        taken = set(ports.values())
        candidate = self.options.gateway_port + 1
        for name in BACKENDS:
            configured = os.environ.get(f"INDS_{name.upper()}_PORT")
            if configured:
                ports[name] = int(configured)
            else:
                while candidate in taken or not _port_free("127.0.0.1", candidate):
                    candidate += 1
                ports[name] = candidate
            taken.add(ports[name])
        return ports

    def _base_env(self, ports: dict[str, int]) -> dict[str, str]:
        assert self.server_url is not None
        env = dict(os.environ)
        env.update(
            {
                "INDS_ENVIRONMENT": self.options.environment,
                "INDS_DATABASE_URL": self.server_url,
                "INDS_GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
                **{
                    f"INDS_{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}"
                    for name in BACKENDS
                },
                "INDS_BENEFICIARIES_IMPORT_DIR": str(self.data_dir / "imports"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.options.extra_env)
        return env

    def _spawn(self, name: str, port: int, env: dict[str, str]) -> None:
        log_dir = self.data_dir / "logs"
        log_dir.mkdir(exist_ok=True)
        log_path = log_dir / f"{name}.log"
        host = self.options.host if name == "gateway" else "127.0.0.1"
        workers = env.get(f"INDS_{name.upper()}_WORKERS", "1")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            f"services.{name}.app:create_app",
            "--factory",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
            "--workers",
            workers,
        ]
        with log_path.open("ab") as log:
            popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            )
        previous = self.processes.get(name)
        self.processes[name] = Process(
            name, port, popen, log_path, env, failures=previous.failures if previous else 0
        )

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "database_url": self.server_url if self.embedded else None,
            "processes": {
                name: {"pid": p.popen.pid, "port": p.port, "url": p.url, "log": str(p.log_path)}
                for name, p in self.processes.items()
            },
        }
        (self.data_dir / "stack.json").write_text(json.dumps(state, indent=2))

    def wait_until_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=2.0) as client:
            for process in self.processes.values():
                while True:
                    if process.popen.poll() is not None:
                        raise RuntimeError(
                            f"{process.name} exited with code {process.popen.returncode}; "
                            f"see {process.log_path}\n" + _tail(process.log_path)
                        )
                    try:
                        if client.get(process.url + "/ready").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{process.name} did not become ready; see {process.log_path}"
                        )
                    time.sleep(0.2)

    # -- run and stop --------------------------------------------------------------------

    def supervise(self) -> list[str]:
        """Start again the processes that died, each after its back-off; what happened, as
        lines for the console (a death once, a restart when it happens)."""
        events = []
        now = time.monotonic()
        for process in list(self.processes.values()):
            if process.popen.poll() is None:
                if process.failures and now - process.started_at > HEALTHY_AFTER_SECONDS:
                    process.failures = 0
                continue
            if process.restart_at is None:
                if now - process.started_at > HEALTHY_AFTER_SECONDS:
                    process.failures = 0
                delay = min(RESTART_BACKOFF_MAX, 2.0**process.failures)
                process.failures += 1
                process.restart_at = now + delay
                leftovers = _stop_leftovers(process)
                events.append(
                    f"{process.name} exited (code {process.popen.returncode})"
                    + (f"; its {leftovers} leftover processes stopped" if leftovers else "")
                    + f"; starting it again in {delay:.0f} s (see {process.log_path})"
                )
            elif now >= process.restart_at:
                self._spawn(process.name, process.port, process.env)
                self._write_state()
                events.append(f"{process.name} started again (restart {process.failures})")
        return events

    def stop(self, timeout: float = 15.0) -> None:
        """The gateway first (no new traffic), then the services, then the database."""
        order = ["gateway", *BACKENDS]
        for name in order:
            process = self.processes.get(name)
            if process and process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name in order:
            process = self.processes.get(name)
            if process is None:
                continue
            try:
                process.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
            _stop_leftovers(process)
        if self.embedded is not None:
            self.embedded.stop()
        (self.data_dir / "stack.json").unlink(missing_ok=True)


def _stop_leftovers(process: Process) -> int:
    """Kill what is left of a process that exited: the workers of a service run with
    `INDS_<SERVICE>_WORKERS` outlive a master that was killed, keep its port (its restart
    could not bind it) and serve with nobody watching them. They share its process group
    (each process is started in a session of its own); how many there were."""
    leftovers = 0
    for other in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            leftovers += (
                other.pid != process.popen.pid and os.getpgid(other.pid) == process.popen.pid
            )
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.popen.pid, signal.SIGKILL)
    return leftovers


def free_port() -> int:
    """A port nothing listens on now (the system's choice), on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
