"""Watcher leases on Job rows: who may work on a job right now, and which jobs nobody holds.

A watcher takes a job's lease (`lease_until`, a conditional UPDATE that doubles as the token),
renews it between steps and releases it when it gives the job back. A job whose lease expired,
or that was never leased for `RESUME_GRACE_SECONDS`, is stale: `resume_jobs` enqueues it again.
Used by the job watcher (`jobs.py`) and the follower of child jobs (`children.py`).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from backend_ganeti.models import Job

# A job nobody leased is re-enqueued after this long (its first task may still be queued).
RESUME_GRACE_SECONDS = 30


def lease_seconds() -> float:
    """How long a watcher's lease lasts without renewal (BACKEND_JOB_LEASE_SECONDS, default 120)."""
    return float(getattr(settings, "BACKEND_JOB_LEASE_SECONDS", 120))


def take_lease(job_pk: int) -> Job | None:
    """Lease an unfinished job nobody holds; the Job (lease_until = our token) or None."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    lease = now + timedelta(seconds=lease_seconds())
    if not Job.objects.filter(free, pk=job_pk).exclude(status__in=Job.FINISHED).update(lease_until=lease):
        return None
    job = Job.objects.select_related("cluster").get(pk=job_pk)
    job.lease_until = lease
    return job


def renew_lease(job: Job) -> bool:
    """Extend our lease; False when another watcher took the job over (then stop working on it)."""
    lease = timezone.now() + timedelta(seconds=lease_seconds())
    if job.lease_until is None or not Job.objects.filter(pk=job.pk, lease_until=job.lease_until).update(
        lease_until=lease
    ):
        return False
    job.lease_until = lease
    return True


def release_lease(job: Job) -> None:
    """Give the job back (a later `resume_jobs` retries it), if the lease is still ours."""
    if job.lease_until is not None:
        Job.objects.filter(pk=job.pk, lease_until=job.lease_until).update(lease_until=None)
    job.lease_until = None


def stale_job_ids() -> list[int]:
    """Unfinished jobs no live watcher holds: lease expired, or never leased for a while."""
    now = timezone.now()
    grace = now - timedelta(seconds=RESUME_GRACE_SECONDS)
    stale = Q(lease_until__lt=now) | Q(lease_until__isnull=True, created_at__lt=grace)
    return list(Job.objects.filter(stale).exclude(status__in=Job.FINISHED).values_list("pk", flat=True))
