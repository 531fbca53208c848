"""Jobs that end by queueing jobs of their own: follow the children, then finish the parent.

Ganeti's node evacuation does not move anything itself: its job queues one job per instance
(`JobStatus.children`) and succeeds at once. The watcher keeps such a parent `running`, records a
Job row per child (`outcomes.record_children`: operation `migrate`/`failover`/`evacuate_child`,
linked to its instance), follows each child as a job of its own (renewing the parent's lease
along with the child's), and finishes the parent only when every child has, with their outcome
(`outcomes.children_outcome`). A parent whose lease is lost is given back and resumed later; the
child rows it made are followed again, never made twice.
"""

from __future__ import annotations

import time
from typing import Protocol

from backend_ganeti.drivers.base import ClusterDriver
from backend_ganeti.drivers.types import JobStatus
from backend_ganeti.models import Job
from backend_ganeti.rapi.errors import NotFound as ClusterNotFound
from backend_ganeti.services import outcomes
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.services.leases import release_lease, renew_lease, take_lease
from backend_ganeti.services.outcomes import finish_job

# While another watcher follows a child job: how often to look whether it ended.
CHILD_POLL_SECONDS = 2.0


class FollowChild(Protocol):
    """Follows one leased job to its end, renewing `holder`'s lease along (the watcher's `_follow`)."""

    def __call__(self, job: Job, driver: ClusterDriver, *, holder: Job | None = None) -> None:
        """Follow `job` until it ends, the cluster stops answering, or a lease is lost."""


def follow_children(job: Job, driver: ClusterDriver, status: JobStatus, *, follow: FollowChild) -> bool:
    """`job` ended by queueing child jobs: follow each, then finish `job`; True when it was finished."""
    summaries = {child_id: _summaries(driver, child_id) for child_id in status.children}
    children = outcomes.record_children(job, status, summaries)
    if children is None:
        return False
    for done, child in enumerate(children, start=1):
        if not _await_child(job, child, driver, follow):
            release_lease(job)
            return False
        Job.objects.filter(pk=job.pk, lease_until=job.lease_until).update(progress=done * 100 // len(children))
    infos = tuple(driver.instances()) if job.operation == Operation.EVACUATE_NODE else ()
    children = list(Job.objects.filter(pk__in=[child.pk for child in children]).order_by("pk"))
    succeeded = sum(1 for child in children if child.status == Job.Status.SUCCESS)
    message = f"{succeeded} of {len(children)} child job(s) succeeded"
    finish_job(job, outcomes.children_outcome(status, children, infos), message=message)
    return True


def _await_child(parent: Job, child: Job, driver: ClusterDriver, follow: FollowChild) -> bool:
    """Follow one child job (or wait while another watcher does) until it ends; False if `parent`'s lease is lost."""
    while True:
        child.refresh_from_db(fields=("status", "lease_until"))
        if child.finished:
            return True
        leased = take_lease(child.pk)
        if leased is None:
            time.sleep(CHILD_POLL_SECONDS)  # another watcher holds it
        else:
            try:
                follow(leased, driver, holder=parent)
            finally:
                release_lease(leased)  # when it did not finish (no-op once finished)
        if not renew_lease(parent):
            return False


def _summaries(driver: ClusterDriver, job_id: str) -> tuple[str, ...]:
    """What a job does, as the cluster summarises it (``INSTANCE_MIGRATE(vm1)``); () when it is gone."""
    try:
        return driver.job(job_id).operations
    except ClusterNotFound:
        return ()
