"""Benchmark of the quota ledger on PostgreSQL: commissions per second on one contended holding.

Each commission is `quotas.issue` + `quotas.accept` (two transactions), all threads charging the
same holding, so every one of them queues on its row lock. The baseline is `SELECT 1`
transactions per second at the same concurrency on the same database: the ratio says how much
of the database's plain transaction rate the ledger keeps under contention (goal: >= 0.1x at 32).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/nefos .venv/bin/python bench/bench_quotas.py
It works in its own database, `nefos_bench` (created and migrated if missing), and deletes the
rows it made. Without a PostgreSQL DATABASE_URL it says so and exits 0.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "nefos_bench"
DURATION = 3.0  # seconds per measurement
REPEATS = 3
LEVELS = (1, 8, 32)
GOAL = 0.10


def ensure_database(url: str) -> str:
    """Create the benchmark database next to the one in `url` if missing; return its URL."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    return urlunsplit(parts._replace(path="/" + BENCH_DB))


def setup_django(url: str) -> None:
    """Point Django at the benchmark database, start it, and migrate."""
    os.environ["DATABASE_URL"] = url
    if "PORTAL_DATA_DIR" not in os.environ:
        data_dir = tempfile.mkdtemp(prefix="nefos-bench-")
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
        os.environ["PORTAL_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _worker(i: int, op: Callable[[int, int], None], start_at: float, results: Any) -> None:
    """One client process: run `op` from `start_at` for DURATION seconds, report the count."""
    from django.db import connection

    connection.ensure_connection()  # connecting is not part of the measurement
    time.sleep(max(0.0, start_at - time.time()))
    deadline = start_at + DURATION
    n = 0
    while time.time() < deadline:
        op(i, n)
        n += 1
    connection.close()
    results.put(n)


def rate(concurrency: int, op: Callable[[int, int], None]) -> float:
    """Operations per second of `concurrency` client processes each running `op(client, n)`.

    Processes, not threads, as in production (gunicorn sync workers): the ledger's Python work
    must not be serialised by one interpreter's GIL while the database is what is measured.
    """
    from django.db import connections

    connections.close_all()  # children must not share the parent's connection
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    start_at = time.time() + 1.0 + concurrency * 0.02
    procs = [ctx.Process(target=_worker, args=(i, op, start_at, results)) for i in range(concurrency)]
    for proc in procs:
        proc.start()
    counts = [results.get(timeout=DURATION + 60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        if proc.exitcode != 0:
            raise RuntimeError(f"a benchmark client exited with {proc.exitcode}")
    return sum(counts) / DURATION


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        print(
            "bench_quotas: skipped: DATABASE_URL must point at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/nefos"
        )
        return 0
    setup_django(ensure_database(url))

    from django.db import connection, transaction

    from identity.models import Project
    from identity.quota_models import Commission, Holding, Provision, Resource
    from identity.services import quotas
    from portal.models import AuditEvent

    tag = uuid.uuid4().hex[:8]
    # Like every client of the ledger (compute, network, volume, objectstore), the benchmark can say
    # what happened to a commission, so its settling may commit asynchronously (see ledger_pg).
    quotas.register_resolver("bench", lambda commission: True)
    resource = Resource.objects.create(name=f"bench.{tag}", description="benchmark", default_project_limit=10**15)
    project = Project.objects.create(name=f"bench-{tag}")
    quotas.set_limit(project, resource.name, 10**15, actor=None)

    def commission(i: int, n: int) -> None:
        serial = quotas.issue(
            project, {resource.name: 1}, actor=None, client="bench", client_key=f"{tag}-{run[0]}-{i}-{n}"
        ).serial
        quotas.accept(serial)

    def select_one(i: int, n: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    run = [0]
    try:
        print(f"bench_quotas: database {BENCH_DB}, {REPEATS}x{DURATION:.0f}s per measurement, medians:")
        for level in LEVELS:
            ledger, baseline = [], []
            for _ in range(REPEATS):
                run[0] += 1
                ledger.append(rate(level, commission))
                baseline.append(rate(level, select_one))
            got, base = statistics.median(ledger), statistics.median(baseline)
            ratio = got / base if base else 0.0
            print(
                f"quota_commissions c={level}: {got:.0f}/s  baseline {base:.0f}/s  "
                f"ratio {ratio:.2f}x (goal >= {GOAL:.2f}x)"
            )
        holding = Holding.objects.with_bracket().get(project=project, user=None, resource=resource)
        accepted = Commission.objects.filter(project=project, state=Commission.State.ACCEPTED).count()
        consistent = holding.usage_min == holding.usage_max == accepted
        print(f"bench_quotas: {accepted} commissions accepted; ledger consistent: {consistent}")
    finally:
        Provision.objects.filter(commission__project=project).delete()
        Commission.objects.filter(project=project).delete()
        AuditEvent.objects.filter(project_id=project.pk).delete()
        Holding.objects.filter(project=project).delete()
        project.delete()
        resource.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
