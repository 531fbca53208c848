"""Run the Nefos portal on one machine: prepare the data dir, then supervise the libvirt host, web,
worker and beat.

    .venv/bin/python scripts/demo.py                 # prepare, then run in the foreground
    .venv/bin/python scripts/demo.py --prepare-only  # migrations and the admin account only

Preparing is idempotent: `manage.py migrate`, then `manage.py bootstrap` with the admin
password (PORTAL_ADMIN_PASSWORD, else one generated once into $PORTAL_DATA_DIR/admin_password),
then `manage.py libvirt_host register` (the `embedded` cluster, see docs/libvirt-host.md).
Running starts the embedded libvirt host agent (simulated nodes; socket and state in
$PORTAL_DATA_DIR/libvirt-host/), gunicorn (`portal.wsgi`, see portal/gunicorn_conf.py), a Celery
worker, Celery beat and the console proxy (`manage.py console_proxy`, noVNC's websockets, on the
web's host at PORTAL_CONSOLE_PORT) under scripts/supervisor.py, all sharing PORTAL_DATA_DIR and
one Prometheus directory.

Environment: PORTAL_PORT (8000), PORTAL_BIND (127.0.0.1:$PORTAL_PORT), PORTAL_DATA_DIR (./var),
PORTAL_ADMIN_PASSWORD, PORTAL_ADMIN_NAME and PORTAL_ADMIN_PROJECT (admin), PORTAL_WEB_WORKERS (2),
PORTAL_CELERY_POOL (threads), PORTAL_CELERY_CONCURRENCY (32 threads; 2 for prefork),
PORTAL_CONSOLE_PORT (PORTAL_PORT + 1); the portal's own settings
(DATABASE_URL, CELERY_BROKER_URL, ...) pass through unchanged.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

# Run as a script, this file's directory is on sys.path: the supervisor sits beside it.
from supervisor import Child, Supervisor

BASE_DIR = Path(__file__).resolve().parent.parent
# The names `manage.py bootstrap` gives the admin account (it reads the same variables).
ADMIN_USER = os.environ.get("PORTAL_ADMIN_NAME") or "admin"
ADMIN_PROJECT = os.environ.get("PORTAL_ADMIN_PROJECT") or "admin"
READY_TIMEOUT = 120.0
# A Unix socket path holds at most 107 bytes.
MAX_SOCKET_PATH = 107


class SetupError(RuntimeError):
    """A preparation step failed; the message says which and what to do."""


def data_dir() -> Path:
    """PORTAL_DATA_DIR (default ./var), absolute, created if missing."""
    path = Path(os.environ.get("PORTAL_DATA_DIR") or BASE_DIR / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def bind_address() -> str:
    """Where gunicorn listens: PORTAL_BIND, else 127.0.0.1:PORTAL_PORT (8000)."""
    return os.environ.get("PORTAL_BIND") or f"127.0.0.1:{os.environ.get('PORTAL_PORT') or '8000'}"


def tcp_endpoint(bind: str) -> tuple[str, int] | None:
    """(host, port) of a TCP bind address, None for a Unix socket or file descriptor."""
    if bind.startswith(("unix:", "fd://")) or ":" not in bind:
        return None
    host, _, port = bind.rpartition(":")
    return host.strip("[]"), int(port)


def base_url(bind: str) -> str | None:
    """The URL a browser on this machine uses to reach `bind`."""
    endpoint = tcp_endpoint(bind)
    if endpoint is None:
        return None
    host, port = endpoint
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising a wildcard, not binding to one
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def console_bind(bind: str) -> str:
    """Where the console proxy listens: the web's host (loopback by default), PORTAL_CONSOLE_PORT.

    PORTAL_CONSOLE_PORT defaults to the web's port + 1 (8001); the console page finds the proxy
    on the host name it was loaded from and that port (see docs/compute.md, "Consoles").
    """
    endpoint = tcp_endpoint(bind)
    host, web_port = endpoint if endpoint is not None else ("127.0.0.1", 8000)
    port = os.environ.get("PORTAL_CONSOLE_PORT") or str(web_port + 1)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_port_free(bind: str) -> None:
    """Fail early, and clearly, when something already listens where gunicorn should."""
    endpoint = tcp_endpoint(bind)
    if endpoint is None:
        return
    host, port = endpoint
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SetupError(
                    f"{bind} is already in use; choose another port with PORTAL_PORT=... (console: PORTAL_CONSOLE_PORT)"
                ) from exc
            raise


def admin_password(directory: Path) -> tuple[str, str]:
    """The admin password and where it is kept: $PORTAL_DATA_DIR/admin_password (mode 600).

    PORTAL_ADMIN_PASSWORD, when set, wins and is written there (bootstrap resets the account to
    it); otherwise the file's password is used, generated on the first run.
    """
    path = directory / "admin_password"
    configured = os.environ.get("PORTAL_ADMIN_PASSWORD", "")
    stored = path.read_text().strip() if path.exists() else ""
    password = configured or stored or secrets.token_urlsafe(12)
    if password != stored:
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        tmp.replace(path)
    path.chmod(0o600)
    source = "from PORTAL_ADMIN_PASSWORD, " if configured else ""
    return password, f"{source}saved in {path}"


def libvirt_host_paths(directory: Path) -> tuple[Path, Path]:
    """The embedded libvirt host agent's socket and state dir under the data dir."""
    state = directory / "libvirt-host"
    socket_path = state / "agent.sock"
    if len(str(socket_path).encode()) > MAX_SOCKET_PATH:
        raise SetupError(f"{socket_path} is too long for a Unix socket; use a shorter PORTAL_DATA_DIR")
    return socket_path, state


def bootstrap_command() -> Path | None:
    """The file of the `bootstrap` management command, if some app has one."""
    return next(iter(sorted(BASE_DIR.glob("*/management/commands/bootstrap.py"))), None)


# migrate + bootstrap + registering the embedded cluster (its socket is argv[1]) in one
# interpreter: Django starts once (about 2 s saved per start).
_PREPARE = """
import sys
import django
from django.core.management import CommandError, call_command
django.setup()
register = ("register", "--socket", sys.argv[1])
for name, args, options in (
    ("migrate", (), {"interactive": False}), ("bootstrap", (), {}), ("libvirt_host", register, {})
):
    try:
        call_command(name, *args, **options)
    except CommandError as exc:
        sys.exit(f"manage.py {name}: {exc}")
"""


def run_prepare(env: dict[str, str], socket_path: Path) -> None:
    """Run `manage.py migrate`, `bootstrap`, `libvirt_host register`; raise SetupError if one fails."""
    command = [sys.executable, "-c", _PREPARE, str(socket_path)]
    result = subprocess.run(command, cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise SetupError(f"migrate/bootstrap/register failed with status {result.returncode} (output above)")


def base_env(directory: Path) -> dict[str, str]:
    """The environment every portal process gets (never the admin password)."""
    env = {key: value for key, value in os.environ.items() if key != "PORTAL_ADMIN_PASSWORD"}
    env.update(
        PORTAL_DATA_DIR=str(directory),
        DJANGO_SETTINGS_MODULE="portal.settings",
        PYTHONUNBUFFERED="1",
        PROMETHEUS_MULTIPROC_DIR=str(directory / "metrics"),
    )
    return env


def prepare(directory: Path) -> tuple[str, str]:
    """Apply migrations and create or update the admin account; return its password and where it is."""
    if bootstrap_command() is None:
        raise SetupError(
            "the `bootstrap` management command does not exist yet "
            "(expected at identity/management/commands/bootstrap.py); cannot create the admin account"
        )
    password, source = admin_password(directory)
    env = base_env(directory)
    env.pop("PROMETHEUS_MULTIPROC_DIR")  # one-off commands need no shared metrics
    # Static files are served from node_modules and the apps by whitenoise's finders; an empty
    # STATIC_ROOT keeps it from warning (production runs `manage.py collectstatic` into it).
    (directory / "static").mkdir(exist_ok=True)
    run_prepare({**env, "PORTAL_ADMIN_PASSWORD": password}, libvirt_host_paths(directory)[0])
    return password, source


def hold_lock(directory: Path) -> IO[str]:
    """Take the data dir's demo lock, so two demos never share (and wipe) one data dir."""
    handle = (directory / "demo.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise SetupError(f"another demo is already running on {directory}") from exc
    return handle


def banner(url: str | None, bind: str, password: str, source: str, directory: Path, console: str) -> str:
    """What a person needs to log in: the URLs, the admin user and its password."""
    where = url or bind
    lines = [
        "",
        "Nefos portal (embedded default unless DATABASE_URL / CELERY_BROKER_URL say otherwise)",
        f"  dashboard   {where}/",
        f"  identity    {where}/identity/v3   (openstack CLI: --os-auth-url)",
        f"  consoles    ws://{console}/   (the console proxy noVNC connects to)",
        f"  user        {ADMIN_USER}   (domain Default, project {ADMIN_PROJECT})",
        f"  password    {password}   ({source})",
        f"  data dir    {directory}",
        "  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def children(directory: Path, console: str) -> list[Child]:
    """The five processes of a one-machine portal (the libvirt host agent first)."""
    bin_dir = Path(sys.executable).parent
    # Threads: the worker's tasks mostly wait on clusters (a job watcher long-polls until its job
    # ends), so one watcher per thread lets 20 builds run side by side instead of 2 at a time (a queued
    # watcher would add a whole build to the wait of the server behind it).
    pool = os.environ.get("PORTAL_CELERY_POOL") or "threads"
    concurrency = os.environ.get("PORTAL_CELERY_CONCURRENCY") or ("32" if pool == "threads" else "2")
    celery = [str(bin_dir / "celery"), "--app", "portal"]
    socket_path, state = libvirt_host_paths(directory)
    agent = [sys.executable, str(BASE_DIR / "manage.py"), "libvirt_host", "run", "--socket", str(socket_path)]
    console_host, _, console_port = console.rpartition(":")
    proxy = ["console_proxy", "--bind", console_host.strip("[]"), "--port", console_port]
    return [
        Child("libvirt", [*agent, "--state-dir", str(state)]),
        Child("web", [str(bin_dir / "gunicorn"), "--config", str(BASE_DIR / "portal/gunicorn_conf.py"), "portal.wsgi"]),
        Child(
            "worker",
            [*celery, "worker", "--loglevel", "INFO", "--pool", pool, "--concurrency", concurrency, "-n", "worker@%h"],
        ),
        Child("beat", [*celery, "beat", "--loglevel", "INFO"]),
        Child("console", [sys.executable, str(BASE_DIR / "manage.py"), *proxy]),
    ]


def refresh_clusters(supervisor: Supervisor, env: dict[str, str]) -> None:
    """Take a first capacity snapshot of every cluster (the allocator reads it; beat repeats it)."""
    command = [sys.executable, str(BASE_DIR / "manage.py"), "gnt_cluster", "refresh", "--all"]
    result = subprocess.run(command, cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if result.returncode != 0:
        supervisor.say("supervisor", f"first cluster refresh failed (beat retries): {result.stderr.decode()[-300:]}")


def announce_when_ready(supervisor: Supervisor, url: str, env: dict[str, str]) -> None:
    """Poll /health from a thread; once it answers 200, refresh the clusters and say so."""

    def poll() -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - our own URL
                    if response.status == 200:
                        refresh_clusters(supervisor, env)
                        supervisor.say("supervisor", f"ready: {url}/ (log in as {ADMIN_USER})")
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        supervisor.say("supervisor", f"{url}/health has not answered 200 within {READY_TIMEOUT:.0f} s")

    threading.Thread(target=poll, name="ready", daemon=True).start()


def run(directory: Path) -> int:
    """Prepare, then run the libvirt host, web, worker, beat and console proxy until Ctrl-C or a failure."""
    bind = bind_address()
    console = console_bind(bind)
    lock = hold_lock(directory)
    try:
        check_port_free(bind)
        check_port_free(console)
        started = time.monotonic()
        password, source = prepare(directory)
        metrics = directory / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)  # samples of earlier runs' dead processes
        metrics.mkdir()
        env = {**base_env(directory), "PORTAL_BIND": bind, "PORTAL_CONSOLE_PORT": console.rpartition(":")[2]}
        url = base_url(bind)
        print(banner(url, bind, password, source, directory, console), flush=True)  # noqa: T201 - the demo's console
        started_in = time.monotonic() - started
        print(f"prepared in {started_in:.1f} s; starting libvirt, web, worker, beat, console", flush=True)  # noqa: T201
        supervisor = Supervisor(children(directory, console), env=env, cwd=BASE_DIR)
        if url:
            supervisor.on_started = lambda: announce_when_ready(supervisor, url, env)
        return supervisor.run()
    finally:
        lock.close()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare-only", action="store_true", help="migrate and bootstrap, then exit")
    args = parser.parse_args(argv)
    directory = data_dir()
    try:
        if args.prepare_only:
            _, source = prepare(directory)
            print(f"data dir {directory} is ready (admin user {ADMIN_USER}, password {source})")  # noqa: T201
            return 0
        return run(directory)
    except SetupError as exc:
        print(f"demo: setup failed: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:  # Ctrl-C while preparing, before the supervisor takes signals over
        print("demo: interrupted", file=sys.stderr)  # noqa: T201
        return 130


if __name__ == "__main__":
    sys.exit(main())
