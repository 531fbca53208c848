"""Benchmark: the portal's overhead from `POST /servers` to ACTIVE over the backend's own build time.

A fresh `scripts/demo.py` (the embedded default: SQLite, the filesystem Celery broker, the
embedded libvirt host with its simulated build delay, gunicorn, one Celery worker) runs on a free
loopback port with a private data dir. Each round boots CONCURRENCY servers at once, each from its
own client thread that polls `GET /servers/{id}` every POLL seconds until ACTIVE, then deletes
them. Per server, overhead = (ACTIVE seen by the client - POST sent) - (the create job's run time
as the libvirt host itself reports it: its started/ended timestamps). The backend's time is the
baseline measured in the same run. Goal: overhead p50 < 0.5 s and p99 < 2 s.

The portal always runs on the embedded default here (DATABASE_URL and CELERY_BROKER_URL are
ignored): it is what `make demo` gives a new user. NEFOS_BENCH_ROUNDS sets the rounds (3), and
NEFOS_BENCH_KEEP=1 keeps the data dir with the demo's log. The load average before and after is
printed with the results: on a shared machine the numbers move with it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 20
ROUNDS = int(os.environ.get("NEFOS_BENCH_ROUNDS") or "3")
POLL = 0.5  # the ACTIVE time is the server's own launched_at, so polling need not be tight
READY_TIMEOUT = 180.0
ACTIVE_TIMEOUT = 120.0
GOAL_P50, GOAL_P99 = 0.5, 2.0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Portal:
    """A JSON client of the demo portal at `url` with one admin token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = ""

    def call(self, method: str, path: str, body: Any = None, *, headers: dict | None = None) -> tuple[int, Any, dict]:
        """One request; returns (status, decoded JSON or None, headers)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("OpenStack-API-Version", "compute 2.47")
        if self.token:
            request.add_header("X-Auth-Token", self.token)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                status, answer_headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as exc:
            raw, status, answer_headers = exc.read(), exc.code, dict(exc.headers)
        return status, (json.loads(raw) if raw else None), answer_headers

    def login(self, password: str) -> None:
        """Get an admin token scoped to the admin project."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": password}},
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        status, token, headers = self.call("POST", "/identity/v3/auth/tokens", body)
        if status != 201:
            raise RuntimeError(f"login failed: {status}")
        self.token = headers["X-Subject-Token"]
        self.project_id = token["token"]["project"]["id"]


def wait_ready(portal: Portal, child: subprocess.Popen) -> None:
    """Until the portal answers and its embedded cluster takes servers."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the demo exited with {child.returncode}")
        try:
            status, _, _ = portal.call("GET", "/identity/v3")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the demo did not come up")


def wait_capacity(portal: Portal) -> None:
    """Until the first capacity refresh of the embedded cluster has landed (the demo runs it at start)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        status, clusters, _ = portal.call("GET", "/api/admin/clusters/")
        rows = clusters.get("results", clusters) if isinstance(clusters, dict) else clusters or []
        if status == 200 and any(row.get("mem_free_mb", 0) > 0 for row in rows):
            return
        time.sleep(0.5)
    raise RuntimeError("the embedded cluster never reported its capacity")


def raise_quotas(portal: Portal) -> None:
    """Room for every server of a round in the admin project."""
    for resource, limit in (("compute.servers", 200), ("compute.cores", 400), ("compute.ram_mib", 10**6)):
        status, _, _ = portal.call("PUT", f"/api/projects/{portal.project_id}/quotas/{resource}/", {"limit": limit})
        if status != 200:
            raise RuntimeError(f"setting the quota of {resource} failed: {status}")


def boot_and_wait(portal: Portal, name: str, image: str) -> tuple[str, float, float]:
    """Boot one server; return its id, the wall-clock time of the POST and seconds to ACTIVE seen by the client."""
    body = {"server": {"name": name, "imageRef": image, "flavorRef": "1", "networks": "none"}}
    posted = time.time()
    started = time.monotonic()
    status, answer, _ = portal.call("POST", "/compute/v2.1/servers", body)
    if status != 202:
        raise RuntimeError(f"boot {name}: {status} {answer}")
    server_id = answer["server"]["id"]
    deadline = started + ACTIVE_TIMEOUT
    while time.monotonic() < deadline:
        _, shown, _ = portal.call("GET", f"/compute/v2.1/servers/{server_id}")
        state = shown["server"]["status"]
        if state == "ACTIVE":
            return server_id, posted, time.monotonic() - started
        if state == "ERROR":
            raise RuntimeError(f"{name} went to ERROR: {shown['server'].get('fault')}")
        time.sleep(POLL)
    raise RuntimeError(f"{name} not ACTIVE after {ACTIVE_TIMEOUT} s")


def delete_all(portal: Portal, ids: list[str]) -> None:
    """Delete the servers and wait until they are gone."""
    for server_id in ids:
        portal.call("DELETE", f"/compute/v2.1/servers/{server_id}")
    deadline = time.monotonic() + ACTIVE_TIMEOUT
    while ids and time.monotonic() < deadline:
        ids = [i for i in ids if portal.call("GET", f"/compute/v2.1/servers/{i}")[0] != 404]
        time.sleep(0.5)


def round_of(portal: Portal, image: str, n: int) -> dict[str, tuple[float, float]]:
    """CONCURRENCY boots at once; server id -> (POST wall-clock time, client-seen seconds to ACTIVE)."""
    seen: dict[str, tuple[float, float]] = {}
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            server_id, posted, seconds = boot_and_wait(portal, f"bench-{n}-{i}", image)
            seen[server_id] = (posted, seconds)
        except (RuntimeError, OSError, KeyError) as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} boots failed, first: {errors[0]}")
    return seen


def backend_times(server_ids: list[str]) -> dict[str, tuple[float, float, float, float, float]]:
    """Per server: (create job row written, received by the host, started, ended, ACTIVE recorded) as
    wall-clock times; the middle three from the libvirt host's own job record, the last the server's
    `launched_at` (when the portal made it ACTIVE: what any client polling sees from then on)."""
    from backend_ganeti.drivers.registry import driver_for
    from backend_ganeti.models import Job
    from compute.models import Server

    result = {}
    for server in Server.objects.filter(pk__in=server_ids).select_related("instance__cluster"):
        job = Job.objects.filter(instance=server.instance, operation="create").order_by("pk").first()
        status = driver_for(server.instance.cluster).job(job.job_id)
        result[str(server.pk)] = (
            job.created_at.timestamp(),
            status.received_at,
            status.started_at,
            status.ended_at,
            server.launched_at.timestamp(),
        )
    return result


def failure_lines(log: Path, tail: int = 40) -> list[str]:
    """What explains a failed run: the demo's error lines (a process that exited, a traceback), then its last lines."""
    lines = log.read_text(errors="replace").splitlines()
    marks = ("Traceback", "Error", "Unrecoverable", "exited with", "CRITICAL")
    errors = [line for line in lines[:-tail] if any(mark in line for mark in marks)]
    return errors[-tail:] + ["..."] * bool(errors) + lines[-tail:]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="nefos-bench-create-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    password = "bench-" + os.urandom(8).hex()
    env.update(
        PORTAL_DATA_DIR=str(data_dir),
        PORTAL_PORT=str(port),
        PORTAL_BIND=f"127.0.0.1:{port}",
        PORTAL_CONSOLE_PORT=str(free_port()),  # not port + 1, which something else may hold
        PORTAL_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PORTAL_ADMIN_PASSWORD=password,
        PORTAL_LOG_LEVEL="WARNING",
    )
    log = (data_dir / "demo.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    load_before = load_average()
    try:
        portal = Portal(f"http://127.0.0.1:{port}")
        wait_ready(portal, child)
        portal.login(password)
        raise_quotas(portal)
        wait_capacity(portal)
        _, images, _ = portal.call("GET", "/image/v2/images")
        image = images["images"][0]["id"]
        delete_all(portal, list(round_of(portal, image, 0)))  # warm-up: workers, caches, first placement

        os.environ.pop("DATABASE_URL", None)
        os.environ["PORTAL_DATA_DIR"] = str(data_dir)
        os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        overhead, client, backend = [], [], []
        stages: dict[str, list[float]] = {
            "POST to job row": [],
            "job row to host": [],
            "queued on host": [],
            "end to ACTIVE": [],
        }
        for n in range(1, ROUNDS + 1):
            seen = round_of(portal, image, n)
            times = backend_times(list(seen))
            for server_id, (posted, _polled) in seen.items():
                written, received, began, ended, active = times[server_id]
                own, seconds = ended - began, active - posted
                client.append(seconds)
                backend.append(own)
                overhead.append(seconds - own)
                stages["POST to job row"].append(written - posted)
                stages["job row to host"].append(received - written)
                stages["queued on host"].append(began - received)
                stages["end to ACTIVE"].append(active - ended)
            delete_all(portal, list(seen))
        p50, p99 = statistics.median(overhead), percentile(overhead, 99)
        base = statistics.median(backend)
        print(
            f"server_create c={CONCURRENCY} x{ROUNDS}: to ACTIVE p50 {statistics.median(client):.2f} s; "
            f"backend's own build p50 {base:.2f} s (baseline)"
        )
        print(
            f"server_create overhead p50 {p50:.2f} s (goal < {GOAL_P50} s), p99 {p99:.2f} s (goal < {GOAL_P99} s); "
            f"ratio to the backend's time p50 {p50 / base:.2f}x"
        )
        for label, pick in (("p50", statistics.median), ("max", max)):
            print(
                f"server_create overhead by stage, {label}: "
                + ", ".join(f"{k} {pick(v):.2f} s" for k, v in stages.items())
            )
        print(f"server_create load average (1, 5, 15 min): before {load_before}, after {load_average()}")
        return 0
    except (RuntimeError, OSError):
        log.flush()
        lines = failure_lines(data_dir / "demo.log")
        print("server_create: the demo's error and last log lines:\n" + "\n".join(lines), file=sys.stderr)
        raise
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # the demo stops the processes it supervises
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        log.close()
        if os.environ.get("NEFOS_BENCH_KEEP") == "1":
            print(f"server_create: kept {data_dir} (NEFOS_BENCH_KEEP=1)", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
