"""The job watcher: submit a Job row's operation to its cluster and follow it until it ends.

A watcher holds the job's lease (`lease_until`, renewed on every step) while it works; a job whose
lease expired is picked up again by `stale_job_ids` + `run_job`, so a worker killed at any point
loses nothing. Re-submission is crash-safe: before an operation that may already have reached
the cluster is sent again, the cluster is asked whether it already took effect (`dispatch.
ALREADY_DONE`); a create whose instance exists is adopted and followed instead of sent twice.
A first attempt asks nothing first: no earlier attempt can have reached the cluster (each attempt
is counted in the job's params before it sends anything), so an instance of that name would not
be ours, and the cluster's own refusal is the right answer. The watcher's bookkeeping is kept to
a few statements per job: the cluster's `reachable`/`last_seen` are written only when they
change or are older than `SEEN_REFRESH_SECONDS`, and storing the job id renews the lease in the
same UPDATE.
A job that ends by queueing jobs of its own (node evacuation) is finished only once those child
jobs, each followed as a Job row of its own, have finished (`children.py`). Leases are in
`leases.py` (`take_lease`, `renew_lease`, `release_lease`, `stale_job_ids`, also reachable here).
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from backend_ganeti.drivers import registry
from backend_ganeti.drivers.base import ClusterDriver
from backend_ganeti.drivers.types import InstanceInfo, JobState, JobStatus, PowerState
from backend_ganeti.models import Cluster, Job
from backend_ganeti.rapi.errors import ClusterUnreachable, RapiError
from backend_ganeti.rapi.errors import NotFound as ClusterNotFound
from backend_ganeti.services import children, dispatch, outcomes
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.services.events import SOURCE_JOB, InstanceEvent, apply_event
from backend_ganeti.services.leases import lease_seconds, release_lease, renew_lease, take_lease
from backend_ganeti.services.leases import stale_job_ids as stale_job_ids  # `jobs.stale_job_ids` for tasks
from backend_ganeti.services.outcomes import Outcome, cluster_time, finish_job

log = logging.getLogger(__name__)

# One long-poll of the cluster (Ganeti's own wait lasts ~10 s).
WAIT_TIMEOUT = 10.0
# Submissions tried while the cluster is unreachable before the job fails.
MAX_SUBMIT_ATTEMPTS = 5
# Following a create that an earlier attempt submitted: poll interval and give-up time.
ADOPT_POLL_SECONDS = 2.0
ADOPT_TIMEOUT_SECONDS = 1800.0
_REFRESH_FIELDS = ("status", "job_id", "params", "log", "last_log_serial", "progress", "error")
# A cluster that answered is marked seen again only when its `last_seen` is older than this: a
# write of the cluster row per job step would queue behind every boot that reserves capacity on
# that row (its transaction holds the row until it commits).
SEEN_REFRESH_SECONDS = 10.0


# --- cluster reachability -------------------------------------------------------------------------


def mark_unreachable(cluster: Cluster, exc: RapiError) -> None:
    """Record that the cluster did not answer (operations are refused until it answers again)."""
    Cluster.objects.filter(pk=cluster.pk).update(reachable=False, last_error=str(exc)[:2000])


def mark_reachable(cluster: Cluster) -> None:
    """Record that the cluster answered (no write when the row says so already, seen recently)."""
    now = timezone.now()
    stale = Q(reachable=False) | ~Q(last_error="") | Q(last_seen__isnull=True)
    stale |= Q(last_seen__lt=now - timedelta(seconds=SEEN_REFRESH_SECONDS))
    rows = Cluster.objects.filter(stale, pk=cluster.pk)
    # Read first: a write statement would wait for the database's write lock even to change nothing.
    if rows.exists():
        rows.update(reachable=True, last_error="", last_seen=now)


# --- running a job --------------------------------------------------------------------------------


def run_job(job_pk: int) -> str:
    """Lease, submit and follow one job (the body of the Celery task); returns what happened."""
    job = take_lease(job_pk)
    if job is None:
        return "skipped"
    submit_job(job, fresh=True)
    if job.job_id and not job.finished and job.lease_until is not None:
        follow_job(job)
    return job.status


def submit_job(job: Job, *, fresh: bool = False) -> Job:
    """Send a leased job's operation to its cluster once, storing the cluster's job id.

    `fresh`: the row was read just now, with the lease (`take_lease`): no need to read it again.
    """
    if not fresh:
        job.refresh_from_db(fields=_REFRESH_FIELDS)
    if job.finished or job.job_id:
        return job
    if job.status == Job.Status.CANCELING:
        finish_job(job, Outcome(JobState.CANCELED, error="canceled before it reached the cluster"))
        return job
    driver = registry.driver_for(job.cluster)
    try:
        _submit(job, driver)
    finally:
        driver.close()
    return job


def _submit(job: Job, driver: ClusterDriver) -> None:
    op = job.operation
    attempts = int(job.params.get("submit_attempts", 0))
    params = {**job.params, "submit_attempts": attempts + 1}
    claimed = Job.objects.filter(
        pk=job.pk, lease_until=job.lease_until, status=Job.Status.SUBMITTING, job_id=""
    ).update(params=params)
    if not claimed:
        log.warning("job %s: lease lost before it was submitted; this watcher stops", job.pk)
        job.refresh_from_db(fields=_REFRESH_FIELDS)
        if job.status == Job.Status.CANCELING and not job.job_id:
            finish_job(job, Outcome(JobState.CANCELED, error="canceled before it reached the cluster"))
        return
    job.params = params
    try:
        if _already_done(job, driver, first_attempt=not attempts):
            return
    except RapiError as exc:
        _retry_later(job, attempts + 1, exc)
        return
    try:
        job_id = dispatch.SUBMIT[op](driver, job)
    except ClusterUnreachable as exc:
        _retry_later(job, attempts + 1, exc)
        return
    except RapiError as exc:
        if op == Operation.DESTROY and isinstance(exc, ClusterNotFound):
            outcome = Outcome(JobState.SUCCESS, info_known=True)
            finish_job(job, outcome, message="the instance was not on the cluster")
        else:
            finish_job(job, Outcome(JobState.ERROR, error=str(exc)))
        return
    _store_job_id(job, driver, job_id)


def _already_done(job: Job, driver: ClusterDriver, *, first_attempt: bool) -> bool:
    """Finish the job from the cluster's state when its effect is there already; True if so.

    Only when an earlier attempt may have reached the cluster: a create's instance may then exist
    from an attempt that died before the job id was stored (it is adopted, never created twice).
    """
    op = job.operation
    if job.instance_id is None or op not in dispatch.ALREADY_DONE or first_attempt:
        return False
    info = _instance_or_none(driver, job.target)
    if op == Operation.CREATE:
        if info is None:
            return False
        _adopt_create(job, driver, info)
        return True
    if not dispatch.ALREADY_DONE[op](info, job.params):
        return False
    outcome = Outcome(JobState.SUCCESS, info=info, info_known=True, cluster_time=cluster_time(_mtime(info)))
    finish_job(job, outcome, message="an earlier attempt had already reached the cluster; its result was read back")
    return True


def _retry_later(job: Job, attempts: int, exc: RapiError) -> None:
    """The cluster could not take the job now: give it back for a later resume, or fail it at last."""
    log.warning("job %s: cluster %s could not take it (attempt %s: %s)", job.pk, job.cluster, attempts, exc)
    if isinstance(exc, ClusterUnreachable):
        mark_unreachable(job.cluster, exc)
    if attempts >= MAX_SUBMIT_ATTEMPTS:
        finish_job(job, Outcome(JobState.ERROR, error=f"cluster unavailable after {attempts} attempts: {exc}"))
    else:
        release_lease(job)


def _store_job_id(job: Job, driver: ClusterDriver, job_id: str) -> None:
    """Keep the cluster's job id (whatever the lease: the job exists now) and renew the lease in
    the same UPDATE if it is still ours, then honour a cancel."""
    lease = timezone.now() + timedelta(seconds=lease_seconds())
    Job.objects.filter(pk=job.pk, job_id="").exclude(status__in=Job.FINISHED).update(
        job_id=job_id,
        status=Case(
            When(status=Job.Status.CANCELING, then=Value(Job.Status.CANCELING)), default=Value(Job.Status.QUEUED)
        ),
        lease_until=Case(When(lease_until=job.lease_until, then=Value(lease)), default=F("lease_until")),
    )
    mark_reachable(job.cluster)
    job.refresh_from_db(fields=(*_REFRESH_FIELDS, "lease_until"))
    if job.lease_until != lease:
        job.lease_until = None
        return
    if job.status == Job.Status.CANCELING:
        with contextlib.suppress(RapiError):  # the watcher reports whatever the job then does
            driver.cancel_job(job_id)


def _adopt_create(job: Job, driver: ClusterDriver, info: InstanceInfo) -> None:
    """An earlier attempt created the instance: follow its build by polling, then finish the job."""
    want = PowerState.RUNNING if job.params["spec"].get("start", True) else PowerState.STOPPED
    deadline = time.monotonic() + ADOPT_TIMEOUT_SECONDS
    current: InstanceInfo | None = info
    while current is not None and current.power != want and time.monotonic() < deadline:
        if not renew_lease(job):
            return
        time.sleep(ADOPT_POLL_SECONDS)
        current = _instance_or_none(driver, job.target)
    if current is None:
        error = "the create failed on the cluster: the instance disappeared while it was being built"
        finish_job(job, Outcome(JobState.ERROR, error=error, info_known=True, cluster_time=None))
        return
    finish_job(
        job,
        Outcome(JobState.SUCCESS, info=current, info_known=True, cluster_time=cluster_time(_mtime(current))),
        message="the instance was on the cluster already (an earlier attempt created it); its build was followed",
    )


# --- following a submitted job --------------------------------------------------------------------


def follow_job(job: Job) -> Job:
    """Long-poll the cluster about `job` until it ends, recording log, progress and the outcome.

    When the cluster stops answering, the job is given back (lease released) for a later resume.
    """
    driver = registry.driver_for(job.cluster)
    try:
        _follow(job, driver)
    except ClusterUnreachable as exc:
        log.warning(
            "job %s: cluster %s stopped answering (%s); given back for a later resume", job.pk, job.cluster, exc
        )
        mark_unreachable(job.cluster, exc)
        release_lease(job)
    except RapiError as exc:
        # A busy or failing-over master: a later resume tries again.
        log.warning("job %s: cluster %s answered %s; given back for a later resume", job.pk, job.cluster, exc)
        release_lease(job)
    finally:
        driver.close()
    return job


def _follow(job: Job, driver: ClusterDriver, *, holder: Job | None = None) -> None:
    """Follow `job` to its end; `holder` is a parent job whose lease is renewed along with it."""
    previous: JobStatus | None = None
    # Each wait must end well within the lease, which is renewed between waits.
    timeout = min(WAIT_TIMEOUT, lease_seconds() / 3)
    while True:
        try:
            status = driver.wait_job(job.job_id, previous=previous, timeout=timeout)
        except ClusterNotFound:
            _conclude_unknown(job, driver)
            return
        if status.finished:
            _conclude(job, driver, status)
            return
        kept = _record(job, status) if status != previous else renew_lease(job)
        if not kept or (holder is not None and not renew_lease(holder)):
            log.warning("job %s: another watcher holds it now; this one stops", job.pk)
            return
        previous = status


def _record(job: Job, status: JobStatus) -> bool:
    """Store a running job's new log lines, status and progress; renew the lease in the same UPDATE."""
    lease = timezone.now() + timedelta(seconds=lease_seconds())
    fields = outcomes.log_fields(job, status.log)
    fields.update(status=status.state.value, lease_until=lease)
    if status.progress is not None:
        fields["progress"] = status.progress
    if job.started_at is None and status.state == JobState.RUNNING:
        fields["started_at"] = timezone.now()
    updated = (
        Job.objects.filter(pk=job.pk, lease_until=job.lease_until).exclude(status__in=Job.FINISHED).update(**fields)
    )
    if not updated:
        return False
    progressed = status.progress is not None and status.progress != job.progress
    for name, value in fields.items():
        setattr(job, name, value)
    if progressed and job.instance_id is not None:
        when = cluster_time(status.log[-1].timestamp if status.log else None, status.started_at)
        apply_event(
            InstanceEvent(
                cluster_id=job.cluster_id, name=job.target, timestamp=when, source=SOURCE_JOB, progress=status.progress
            )
        )
    return True


def _conclude(job: Job, driver: ClusterDriver, status: JobStatus) -> None:
    """Read what the job left on the cluster, then finish the Job row with it."""
    if status.state == JobState.SUCCESS and status.children:
        if children.follow_children(job, driver, status, follow=_follow):
            mark_reachable(job.cluster)
        return
    info: InstanceInfo | None = None
    infos: tuple[InstanceInfo, ...] = ()
    op = job.operation
    info_known = False
    if job.instance_id is not None and not (op == Operation.DESTROY and status.state == JobState.SUCCESS):
        info = _instance_or_none(driver, job.target)
        info_known = True
    elif op == Operation.EVACUATE_NODE and status.state == JobState.SUCCESS:
        infos = tuple(driver.instances())
    outcome = Outcome(
        status.state,
        error=status.error,
        info=info,
        info_known=info_known,
        cluster_time=cluster_time(status.ended_at, _mtime(info)),
        lines=status.log,
        progress=status.progress,
        infos=infos,
    )
    finish_job(job, outcome)
    mark_reachable(job.cluster)


def _conclude_unknown(job: Job, driver: ClusterDriver) -> None:
    """The cluster forgot the job (archived while no watcher ran): judge it by the instance's state."""
    message = f"the cluster no longer knows job {job.job_id}; the outcome was read from the instance"
    if job.instance_id is None or job.operation not in dispatch.ALREADY_DONE:
        finish_job(job, Outcome(JobState.ERROR, error=message))
        return
    info = _instance_or_none(driver, job.target)
    done = dispatch.ALREADY_DONE[job.operation](info, job.params)
    state = JobState.SUCCESS if done else JobState.ERROR
    outcome = Outcome(state, error="" if done else message, info=info, info_known=True, cluster_time=_mtime(info))
    finish_job(job, outcome, message=message)


def _instance_or_none(driver: ClusterDriver, name: str) -> InstanceInfo | None:
    """The cluster's view of an instance; None when it has none by that name."""
    try:
        return driver.instance(name)
    except ClusterNotFound:
        return None


def _mtime(info: InstanceInfo | None) -> float | None:
    return info.mtime if info is not None else None


# --- cancelling -----------------------------------------------------------------------------------


def cancel_unsubmitted(job: Job) -> bool:
    """Cancel a job that never reached the cluster and that no watcher holds; False otherwise."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    lease = now + timedelta(seconds=lease_seconds())
    taken = Job.objects.filter(free, pk=job.pk, status=Job.Status.SUBMITTING, job_id="").update(lease_until=lease)
    if not taken:
        return False
    job.refresh_from_db(fields=_REFRESH_FIELDS)
    job.lease_until = lease
    return finish_job(job, Outcome(JobState.CANCELED, error="canceled before it reached the cluster"))


def cancel_on_cluster(job_pk: int) -> bool:
    """Ask the cluster to cancel a submitted job (the watcher records what the job then does)."""
    job = Job.objects.select_related("cluster").get(pk=job_pk)
    if job.finished or not job.job_id:
        return False
    driver = registry.driver_for(job.cluster)
    try:
        return driver.cancel_job(job.job_id)
    except ClusterUnreachable as exc:
        mark_unreachable(job.cluster, exc)
        return False
    finally:
        driver.close()
