"""Celery tasks of backend_ganeti: take ids, call services.

`run_job` is enqueued on commit by every operation; `resume_jobs` (beat, every 30 s) re-enqueues
jobs whose watcher died, so a worker killed mid-job loses nothing; `refresh_clusters` (beat, every
minute) updates nodes and the capacity snapshot the allocator reads; `reconcile_clusters` (beat,
every 5 min) compares every cluster that is not offline with the database.
"""

from __future__ import annotations

import logging

from celery import shared_task

from backend_ganeti.errors import ClusterOffline
from backend_ganeti.models import Cluster
from backend_ganeti.services import clusters, jobs, reconcile

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_job(job_pk: int) -> str:
    """Lease, submit and follow one job to its end (skipped when another watcher holds it)."""
    return jobs.run_job(job_pk)


@shared_task
def cancel_job(job_pk: int) -> bool:
    """Ask the cluster to cancel a submitted job."""
    return jobs.cancel_on_cluster(job_pk)


@shared_task
def resume_jobs() -> int:
    """Re-enqueue unfinished jobs no live watcher holds; returns how many."""
    stale = jobs.stale_job_ids()
    for pk in stale:
        run_job.delay(pk)
    return len(stale)


@shared_task
def reconcile_clusters() -> dict[str, str]:
    """Reconcile every cluster that is not offline; a cluster's summary (or why it was skipped)."""
    results: dict[str, str] = {}
    for cluster in Cluster.objects.exclude(state=Cluster.State.OFFLINE):
        try:
            report = reconcile.reconcile_cluster(cluster, dry_run=False)
        except ClusterOffline as exc:
            results[cluster.name] = f"skipped: {exc.message}"
            continue
        results[cluster.name] = report.summary()
        if report.changed:
            log.info("reconciled cluster %s: %s", cluster.name, report.summary())
    return results


@shared_task
def refresh_clusters() -> dict[str, str]:
    """Refresh nodes and capacity of every cluster that is not offline; "ok" or why it failed."""
    results: dict[str, str] = {}
    for cluster in Cluster.objects.exclude(state=Cluster.State.OFFLINE):
        try:
            clusters.refresh_cluster(cluster)
        except ClusterOffline as exc:
            results[cluster.name] = f"unreachable: {exc.message}"
            continue
        results[cluster.name] = "ok"
    return results
