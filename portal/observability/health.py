"""`/health`: database and broker checks, as JSON for load balancers and probes.

200 when every check passes, 503 naming the failing ones otherwise. The broker check talks to
whatever CELERY_BROKER_URL names (the filesystem broker by default, RabbitMQ in production).
The clusters check only reports (status "degraded" with the names of unreachable clusters, as last
observed in the database): one Ganeti cluster down must not take the portal out of a load balancer.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection


def _check_database() -> None:
    """One round trip to the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    """Open (and close) a connection to the Celery broker, with one quick retry."""
    with Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS, connect_timeout=3
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0.2, interval_step=0, timeout=3)


def _check_clusters() -> dict[str, object]:
    """Name the enabled or drained clusters last seen unreachable (no cluster is contacted here).

    Report-only: a database that cannot answer is the database check's failure, not this one's.
    """
    from backend_ganeti.models import Cluster

    try:
        names = list(
            Cluster.objects.exclude(state=Cluster.State.OFFLINE).filter(reachable=False).values_list("name", flat=True)
        )
    except DatabaseError as exc:
        return {"status": "unknown", "message": f"{type(exc).__name__}: {exc}"}
    return {"status": "degraded", "unreachable": names} if names else {}


CHECKS = {"database": _check_database, "broker": _check_broker, "clusters": _check_clusters}


def health_view(request: HttpRequest) -> JsonResponse:
    """Run each check; 200 if all pass, 503 with the failing ones otherwise."""
    results = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            results[name] = {"status": "ok", **(check() or {})}
        except Exception as exc:  # noqa: BLE001 - a health probe must report any failure, not raise it
            healthy = False
            results[name] = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
        results[name]["seconds"] = round(time.perf_counter() - started, 4)
    return JsonResponse({"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503)
