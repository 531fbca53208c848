"""The real crash scenario: kill a Celery worker (SIGKILL) mid-create, restart it, resume, check.

Every process shares one temporary data dir: its SQLite database, kombu's filesystem broker and
the embedded libvirt host agent's socket and state. Nothing listens on the network. The scenario:

1. migrate; start the host agent (`manage.py libvirt_host run`, simulated node, slow builds);
2. `setup`: register the cluster and call `operations.create_instance` (the job is enqueued on
   commit, through the broker);
3. start worker 1, wait until the job is on the host (job id stored), SIGKILL it;
4. start worker 2, let the dead worker's lease expire, run `resume` (what beat runs every 30 s);
5. wait for the job to finish and `report` what the database and the host say.

`python -m tests.backend_ganeti.crash_harness {setup|worker|resume|report}` are the child
processes; `run_crash_scenario()` drives them and always stops them (by PID) and removes the dir.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3  # short, so that the test does not wait two minutes for the dead worker's lease
BUILD_DELAY = 8.0
NAME = "crash-vm"


def _child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_"))}
    env.update(
        PORTAL_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_LOG_LEVEL="WARNING",
        PORTAL_LOG_FORMAT="text",
        PYTHONPATH=str(REPO),
    )
    return env


def _harness(command: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.backend_ganeti.crash_harness", command, *args]


def _job_row(db: Path) -> tuple[str, str] | None:
    """(status, job_id) of the one job, read straight from the SQLite file."""
    if not db.exists():
        return None
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute("SELECT status, job_id FROM backend_ganeti_job ORDER BY id LIMIT 1").fetchone()
        except sqlite3.OperationalError:  # not migrated yet / locked
            return None


def _wait(predicate, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def run_crash_scenario() -> dict[str, Any]:
    """Run the scenario; returns what `report` saw plus when the worker was killed."""
    tmp = Path(tempfile.mkdtemp(prefix="nefos-crash-", dir="/tmp"))
    data, socket = tmp / "data", tmp / "host.sock"
    data.mkdir()
    env = _child_env(data)
    log = (tmp / "children.log").open("w")
    procs: list[subprocess.Popen] = []

    def start(argv: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    def call(argv: list[str]) -> str:
        return subprocess.run(argv, cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=120).stdout

    try:
        call([sys.executable, "manage.py", "migrate", "-v0"])
        start(
            [sys.executable, "manage.py", "libvirt_host", "run", "--socket", str(socket), "--state-dir",
             str(tmp / "host"), "--nodes", "1", "--build-delay", str(BUILD_DELAY), "--op-delay", "0.5"]
        )  # fmt: skip
        _wait(socket.exists, 30, "the host agent's socket")
        call(_harness("setup", str(socket)))
        db = data / "portal.sqlite3"
        worker = start(_harness("worker"))
        status, job_id = _wait(lambda: (row := _job_row(db)) and row[1] and row, 60, "the job to reach the host")
        worker.send_signal(signal.SIGKILL)  # kill -9: no cleanup of any kind
        worker.wait(timeout=10)
        after_kill = _job_row(db)
        if after_kill is None or after_kill[0] in ("success", "error", "canceled"):
            raise AssertionError(f"the job finished before the worker was killed: {after_kill}")
        start(_harness("worker"))
        time.sleep(LEASE_SECONDS + 0.5)
        call(_harness("resume"))
        _wait(lambda: (row := _job_row(db)) and row[0] in ("success", "error", "canceled"), 90, "the resumed job")
        result = json.loads(call(_harness("report")))
        result.update(killed_during=status, job_id_unchanged=result["job_id"] == job_id)
        return result
    except (TimeoutError, AssertionError, subprocess.CalledProcessError) as exc:
        log.flush()
        tail = (tmp / "children.log").read_text(errors="replace")[-4000:]
        detail = f"\n--- stderr ---\n{exc.stderr[-4000:]}" if isinstance(exc, subprocess.CalledProcessError) else ""
        raise AssertionError(f"{exc}{detail}\n--- child processes' log (tail) ---\n{tail}") from exc
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log.close()
        if os.environ.get("NEFOS_KEEP_CRASH_DIR") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


# --- the child processes --------------------------------------------------------------------------


def _django() -> None:
    import django
    from django.conf import settings

    django.setup()
    settings.BACKEND_JOB_LEASE_SECONDS = LEASE_SECONDS


def _setup(socket: str) -> None:
    from django.db import transaction

    from backend_ganeti.drivers.types import CreateSpec, DiskSpec
    from backend_ganeti.services import operations
    from backend_ganeti.services.embedded import ensure_embedded_cluster

    with transaction.atomic():
        cluster = ensure_embedded_cluster(socket_path=Path(socket))
    spec = CreateSpec(NAME, 1, 256, "file", (DiskSpec(1024),))
    instance = operations.create_instance(project=None, owner_ref="crash", spec=spec, cluster=cluster, actor=None)
    sys.stdout.write(json.dumps({"instance": instance.pk}) + "\n")


def _worker() -> None:
    from portal.celery import app

    app.worker_main(
        ["worker", "--pool=solo", "--loglevel=WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"]
    )


def _resume() -> None:
    from backend_ganeti import tasks

    sys.stdout.write(json.dumps({"resumed": tasks.resume_jobs()}) + "\n")


def _report() -> None:
    from backend_ganeti.drivers import registry
    from backend_ganeti.models import Cluster, Instance, Job

    job = Job.objects.get()
    driver = registry.driver_for(Cluster.objects.get())
    try:
        on_host = sorted(info.name for info in driver.instances())
    finally:
        driver.close()
    instance = Instance.objects.get(name=NAME)
    report = {
        "job_status": job.status,
        "job_id": job.job_id,
        "job_error": job.error,
        "instance_status": instance.status,
        "instance_rows": Instance.objects.filter(name__startswith=NAME).count(),
        "instances_on_host": on_host,
    }
    sys.stdout.write(json.dumps(report) + "\n")


def main(argv: list[str]) -> None:
    """Run one child step."""
    _django()
    command = argv[0]
    if command == "setup":
        _setup(argv[1])
    elif command == "worker":
        _worker()
    elif command == "resume":
        _resume()
    elif command == "report":
        _report()
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
