"""The agent's job queue: ids, ordering by locks, worker threads, long-poll waits, persistence.

Every write request becomes a `JobRecord` (id from the store's counter, so ids are never reused)
and is persisted at each change. A scheduler thread starts queued jobs in id order on worker
threads; a job whose lock names (an instance name, `node:<name>`, or `*` for the whole host)
collide with a running or earlier job waits (status `waiting`, as Ganeti's lock waits). One
condition variable wakes the scheduler and every long-poll `wait` on any change.
On start, jobs that were queued when the agent stopped are queued again; jobs that were running
end with an error saying they were interrupted. Only the newest `keep` finished jobs are kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from backend_ganeti.libvirt_host.errors import JobError, NotFoundError
from backend_ganeti.libvirt_host.records import JobRecord, JobStatus
from backend_ganeti.libvirt_host.store import StateStore

log = logging.getLogger(__name__)

INTERRUPTED = (
    "interrupted: the host agent stopped while this job ran; the instance keeps the state it "
    "reached (a partly built instance is removed)"
)
INTERNAL = "internal error in the host agent (see its log)"
MAX_WAIT_SECONDS = 30.0


def _conflicts(keys: set[str], taken: set[str]) -> bool:
    """True when a job holding `keys` must wait for jobs holding `taken` (`*` is everything)."""
    if not keys or not taken:
        return False
    return "*" in keys or "*" in taken or bool(keys & taken)


class JobContext:
    """What a running job may do: read its parameters, log, report progress, pause."""

    def __init__(self, queue: JobQueue, job: JobRecord) -> None:
        """Bind to one job of `queue`."""
        self._queue = queue
        self._job = job
        self.job_id = job.job_id
        self.operation = job.operation
        self.target = job.target
        self.params = dict(job.params)

    def log(self, message: str, *, kind: str = "message") -> None:
        """Append a line to the job's log."""
        self._queue.update(self._job, message=message, kind=kind)

    def progress(self, percent: int) -> None:
        """Set the job's progress (0-100)."""
        self._queue.update(self._job, progress=max(0, min(100, int(percent))))

    def pause(self, seconds: float, *, start: int | None = None, end: int | None = None) -> None:
        """Wait `seconds`, moving progress from `start` to `end` in steps when both are given."""
        if seconds <= 0:
            if end is not None:
                self.progress(end)
            return
        steps = max(1, min(20, round(seconds / 0.15))) if start is not None and end is not None else 1
        for step in range(1, steps + 1):
            time.sleep(seconds / steps)
            if start is not None and end is not None:
                self.progress(start + (end - start) * step // steps)


class JobQueue:
    """Jobs of one agent; `run` executes a job's body and raises JobError to fail it."""

    def __init__(
        self, store: StateStore, run: Callable[[JobContext], Any], *, workers: int = 8, keep: int = 1000
    ) -> None:
        """`workers` jobs run at most at once; `keep` finished jobs are kept."""
        self._store = store
        self._run_body = run
        self._workers = workers
        self._keep = keep
        self._cond = threading.Condition()
        self._jobs: dict[int, JobRecord] = {}
        self._pending: list[int] = []  # queued or waiting, in id order
        self._running: dict[int, set[str]] = {}  # job id -> the locks it holds
        self._stopping = False
        self._scheduler: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def recover(self) -> None:
        """Load persisted jobs: queue again what never started, fail what was running."""
        with self._cond:
            for job in self._store.load_jobs():
                self._jobs[job.job_id] = job
                if job.status in (JobStatus.QUEUED, JobStatus.WAITING):
                    job.status = JobStatus.QUEUED
                    self._append_log(job, "queued again after a restart of the host agent")
                    self._store.save_job(job)
                    self._pending.append(job.job_id)
                elif job.status == JobStatus.RUNNING:
                    self._finish(job, JobStatus.ERROR, error=INTERRUPTED)

    def start(self) -> None:
        """Start the scheduler thread."""
        self._scheduler = threading.Thread(target=self._schedule_loop, name="job-scheduler", daemon=True)
        self._scheduler.start()

    def stop(self, grace: float) -> None:
        """Start nothing more and wait up to `grace` seconds for running jobs."""
        deadline = time.monotonic() + grace
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            while self._running and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            if self._running:
                log.warning("stopping with %d job(s) still running: %s", len(self._running), sorted(self._running))

    # --- requests --------------------------------------------------------------------------
    def submit(self, operation: str, target: str, params: dict[str, Any], locks: list[str]) -> int:
        """Queue a job and return its id (persisted before it is returned)."""
        with self._cond:
            job = JobRecord(
                job_id=self._store.next_job_id(),
                operation=operation,
                target=target,
                params=params,
                locks=locks,
                received_at=time.time(),
            )
            self._append_log(job, f"{operation} {target} queued")
            self._store.save_job(job)
            self._jobs[job.job_id] = job
            self._pending.append(job.job_id)
            self._cond.notify_all()
            return job.job_id

    def _get(self, job_id: int) -> JobRecord:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"job {job_id} does not exist")
        return job

    def snapshot(self, job_id: int) -> dict[str, Any]:
        """The job as JSON-ready data."""
        with self._cond:
            return self._get(job_id).to_dict()

    def summaries(self) -> list[dict[str, Any]]:
        """Id, operation, target and status of every kept job, newest first."""
        with self._cond:
            return [
                {"id": job.job_id, "operation": job.operation, "target": job.target, "status": str(job.status)}
                for job in reversed(self._jobs.values())
            ]

    def unfinished_targets(self, operation: str) -> set[str]:
        """Targets of unfinished jobs running `operation` (e.g. names being created)."""
        with self._cond:
            return {job.target for job in self._jobs.values() if job.operation == operation and not job.status.finished}

    def wait(
        self, job_id: int, *, serial: int, status: str | None, progress: int | None, timeout: float
    ) -> dict[str, Any]:
        """Block until the job's log passes `serial`, its status differs from `status` (when
        given; else until it finishes) or its progress differs from `progress` (when given; -1
        stands for "no progress yet")."""
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        with self._cond:
            while True:
                job = self._get(job_id)
                changed = job.last_serial > serial or (
                    job.status.finished if status is None else str(job.status) != status
                )
                current = -1 if job.progress is None else job.progress
                if changed or (progress is not None and current != progress):
                    return job.to_dict()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return job.to_dict()
                self._cond.wait(remaining)

    def cancel(self, job_id: int) -> tuple[bool, str]:
        """Cancel a job that has not started; (False, reason) once it runs or ended."""
        with self._cond:
            job = self._get(job_id)
            if job.status in (JobStatus.QUEUED, JobStatus.WAITING):
                self._pending.remove(job.job_id)
                self._finish(job, JobStatus.CANCELED, error="canceled before it started")
                return True, f"job {job_id} canceled"
            return False, f"job {job_id} is {job.status}; only queued or waiting jobs can be canceled"

    # --- used by JobContext ----------------------------------------------------------------
    def update(self, job: JobRecord, *, message: str = "", kind: str = "message", progress: int | None = None) -> None:
        """Record a log line and/or progress of a running job, persist it, wake waiters."""
        with self._cond:
            if message:
                self._append_log(job, message, kind=kind)
            if progress is not None:
                job.progress = progress
            self._store.save_job(job)
            self._cond.notify_all()

    # --- internals (called with the condition held) ----------------------------------------
    @staticmethod
    def _append_log(job: JobRecord, message: str, *, kind: str = "message") -> None:
        job.log.append({"serial": job.last_serial + 1, "timestamp": time.time(), "kind": kind, "message": message})

    def _finish(self, job: JobRecord, status: JobStatus, *, error: str = "", result: Any = None) -> None:
        job.status = status
        job.error = error
        job.result = result
        job.ended_at = time.time()
        if status == JobStatus.SUCCESS and job.progress is not None:
            job.progress = 100
        self._append_log(job, f"job {status}" + (f": {error}" if error else ""), kind="error" if error else "message")
        self._store.save_job(job)
        self._prune()
        self._cond.notify_all()

    def _prune(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.status.finished]
        for job_id in finished[: max(0, len(finished) - self._keep)]:
            del self._jobs[job_id]
            self._store.delete_job(job_id)

    def _schedule_loop(self) -> None:
        with self._cond:
            while not self._stopping:
                self._dispatch()
                self._cond.wait()

    def _dispatch(self) -> None:
        taken: set[str] = set()
        for locks in self._running.values():
            taken |= locks
        for job_id in list(self._pending):
            job = self._jobs[job_id]
            keys = set(job.locks)
            if _conflicts(keys, taken) or len(self._running) >= self._workers:
                if job.status == JobStatus.QUEUED and _conflicts(keys, taken):
                    job.status = JobStatus.WAITING
                    self._append_log(job, "waiting for another job on the same target")
                    self._store.save_job(job)
                    self._cond.notify_all()
                taken |= keys
                continue
            taken |= keys
            self._pending.remove(job_id)
            job.status = JobStatus.RUNNING
            job.started_at = time.time()
            self._append_log(job, "job started")
            self._store.save_job(job)
            thread = threading.Thread(target=self._execute, args=(job,), name=f"job-{job_id}", daemon=True)
            self._running[job_id] = keys
            thread.start()
            self._cond.notify_all()

    def _execute(self, job: JobRecord) -> None:
        """Run one job's body on its own thread; whatever happens, the job ends."""
        try:
            result = self._run_body(JobContext(self, job))
        except JobError as exc:
            with self._cond:
                self._finish(job, JobStatus.ERROR, error=str(exc))
        else:
            with self._cond:
                self._finish(job, JobStatus.SUCCESS, result=result)
        finally:
            with self._cond:
                if not job.status.finished:  # an unexpected exception escapes after this
                    log.error("job %s (%s %s) failed unexpectedly", job.job_id, job.operation, job.target)
                    self._finish(job, JobStatus.ERROR, error=INTERNAL)
                self._running.pop(job.job_id, None)
                self._cond.notify_all()
