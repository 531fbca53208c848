"""How a finished job lands in the database: the Job row, its instance (through an event), its node.

`finish_job` is the only way a job reaches a terminal status. It runs in one transaction and starts
with a conditional UPDATE (`status` not yet terminal), so however many watchers race on one job
(a resumed one and a late one), its outcome is applied exactly once: one final instance event,
one release of the allocator's reservation.

A job that only queued other jobs (Ganeti's node evacuation queues one per instance) is not
finished when the cluster says so: `record_children` gives each child a Job row of its own
(linked to its instance), the watcher follows them, and `children_outcome` is the parent's outcome.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.drivers.types import InstanceInfo, JobLogEntry, JobState, JobStatus
from backend_ganeti.models import Instance, Job, Node
from backend_ganeti.services import allocation
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.services.events import SOURCE_JOB, InstanceEvent, apply_event, event_from_info

# Job.log keeps the newest lines only; each message is cut to a readable size.
LOG_LIMIT = 200
MESSAGE_LIMIT = 2000
ERROR_LIMIT = 4000
FAULT_NOT_FOUND = "instance not found on cluster"
# A child job's operation, from the opcode in its summary (``INSTANCE_MIGRATE(vm1)``); others
# (e.g. INSTANCE_REPLACE_DISKS for secondaries) are recorded as CHILD_OPERATION.
CHILD_OPERATIONS = {"INSTANCE_MIGRATE": Operation.MIGRATE, "INSTANCE_FAILOVER": Operation.FAILOVER}
CHILD_OPERATION = "evacuate_child"
_SUMMARY_RE = re.compile(r"^(?P<op>[A-Z][A-Z0-9_]*)\((?P<target>[^()]+)\)$")


@dataclass(frozen=True)
class Outcome:
    """What the watcher learnt when a job ended.

    `info_known` says whether `info` was read from the cluster (then None means the cluster has
    no such instance); `cluster_time` is the cluster's time of the outcome when known. `infos`
    are the cluster's instances after a node operation.
    """

    state: JobState
    error: str = ""
    info: InstanceInfo | None = None
    info_known: bool = False
    cluster_time: float | None = None
    lines: tuple[JobLogEntry, ...] = ()
    progress: int | None = None
    infos: tuple[InstanceInfo, ...] = field(default=())


def cluster_time(*candidates: float | None) -> float:
    """The latest cluster timestamp among `candidates`; the local clock when the cluster gave none."""
    known = [c for c in candidates if c]
    return max(known) if known else time.time()


def log_fields(job: Job, lines: tuple[JobLogEntry, ...] | list[JobLogEntry]) -> dict[str, Any]:
    """`log` and `last_log_serial` after appending the lines newer than the job's last one."""
    fresh: dict[int, JobLogEntry] = {e.serial: e for e in lines if e.serial > job.last_log_serial}
    if not fresh:
        return {}
    ordered = [fresh[s] for s in sorted(fresh)]
    entries = [
        {"serial": e.serial, "time": e.timestamp, "kind": e.kind, "message": e.message[:MESSAGE_LIMIT]} for e in ordered
    ]
    return {"log": (list(job.log) + entries)[-LOG_LIMIT:], "last_log_serial": ordered[-1].serial}


def with_note(log: list[dict[str, Any]], message: str) -> list[dict[str, Any]]:
    """`log` plus one line written by the portal itself (serial 0: not one of the cluster's)."""
    entry = {"serial": 0, "time": time.time(), "kind": "portal", "message": message[:MESSAGE_LIMIT]}
    return [*list(log), entry][-LOG_LIMIT:]


def finish_job(job: Job, outcome: Outcome, *, message: str = "") -> bool:
    """Give `job` its terminal status and apply its outcome; False when it was finished already."""
    fields: dict[str, Any] = {
        "status": outcome.state.value,
        "error": outcome.error[:ERROR_LIMIT],
        "ended_at": timezone.now(),
        "lease_until": None,
        "progress": 100 if outcome.state == JobState.SUCCESS else job.progress,
    }
    fields.update(log_fields(job, outcome.lines))
    if message:
        fields["log"] = with_note(fields.get("log", job.log), message)
    with transaction.atomic():
        if not Job.objects.filter(pk=job.pk).exclude(status__in=Job.FINISHED).update(**fields):
            return False
        for name, value in fields.items():
            setattr(job, name, value)
        if job.instance_id is not None:
            row = Instance.objects.filter(pk=job.instance_id).only("name", "status", "backend_time").first()
            if row is not None:
                apply_event(final_event(job, outcome, row))
        elif outcome.state == JobState.SUCCESS and job.operation in (
            Operation.SET_NODE_DRAINED,
            Operation.EVACUATE_NODE,
        ):
            _apply_node_outcome(job, outcome)
        reserved = job.params.get("reserved")
        if job.operation == Operation.CREATE and reserved:
            allocation.release_reservation(
                job.cluster,
                vcpus=reserved["vcpus"],
                memory_mb=reserved["memory_mb"],
                disk_mb=reserved["disk_mb"],
                disk_template=reserved.get("disk_template", ""),
                consumed=outcome.state == JobState.SUCCESS,
            )
    return True


def final_event(job: Job, outcome: Outcome, row: Instance) -> InstanceEvent:
    """The event a finished job means for its instance (row: the instance as the DB has it now)."""
    op = job.operation
    ts = outcome.cluster_time if outcome.cluster_time is not None else row.backend_time
    base = {"cluster_id": job.cluster_id, "name": row.name, "timestamp": ts, "source": SOURCE_JOB}
    success = outcome.state == JobState.SUCCESS
    if op == Operation.DESTROY and (success or (outcome.info_known and outcome.info is None)):
        return InstanceEvent(**base, status=Instance.Status.DELETED, fault="")
    if outcome.info_known and outcome.info is None:
        return InstanceEvent(**base, status=Instance.Status.ERROR, fault=outcome.error or FAULT_NOT_FOUND)
    if outcome.info is not None:
        if success:
            return event_from_info(job.cluster_id, outcome.info, timestamp=ts, source=SOURCE_JOB, fault="")
        # A failed create leaves an instance in error; a failed operation leaves it as the cluster
        # says, with the reason as its fault; a canceled one changes nothing but the state.
        failed_create = op == Operation.CREATE
        failed = outcome.state == JobState.ERROR or failed_create
        return event_from_info(
            job.cluster_id,
            outcome.info,
            timestamp=ts,
            source=SOURCE_JOB,
            status=Instance.Status.ERROR if failed_create else None,
            fault=(outcome.error or "failed") if failed else None,
        )
    # Nothing was read from the cluster (the job never reached it): only the fault changes,
    # at the row's own time so that no newer event is overtaken.
    if op == Operation.CREATE:
        return InstanceEvent(**base, status=Instance.Status.ERROR, fault=outcome.error or "create failed")
    return InstanceEvent(**base, status=row.status, fault=outcome.error or None)


def _apply_node_outcome(job: Job, outcome: Outcome) -> None:
    """A node job's success: the node's drain flag, and the instances an evacuation moved."""
    if job.operation == Operation.SET_NODE_DRAINED:
        drained = bool(job.params.get("drained"))
        node = Node.objects.filter(cluster_id=job.cluster_id, name=job.target).first()
        if node is not None:
            role = "D" if drained else ("R" if node.role == "D" else node.role)
            Node.objects.filter(pk=node.pk).update(drained=drained, role=role, updated_at=timezone.now())
        return
    by_name = {info.name: info for info in outcome.infos}
    rows = Instance.objects.filter(cluster_id=job.cluster_id).exclude(status=Instance.Status.DELETED)
    for row in rows.only("name", "primary_node", "secondary_nodes"):
        info = by_name.get(row.name)
        if info is None or job.target not in (row.primary_node, *row.secondary_nodes):
            continue
        ts = cluster_time(outcome.cluster_time, info.mtime)
        apply_event(event_from_info(job.cluster_id, info, timestamp=ts, source=SOURCE_JOB))


# --- jobs that queued other jobs ------------------------------------------------------------------


def child_operation(summaries: Sequence[str]) -> tuple[str, str]:
    """``(operation, instance name)`` of a child job from its opcode summaries ("" when none names one)."""
    for summary in summaries:
        if match := _SUMMARY_RE.match(summary):
            return CHILD_OPERATIONS.get(match["op"], CHILD_OPERATION), match["target"]
    return CHILD_OPERATION, ""


def record_children(job: Job, status: JobStatus, summaries: Mapping[str, Sequence[str]]) -> list[Job] | None:
    """Mark `job` running until the jobs it queued end, and give each child a Job row (once).

    `summaries` are each child's opcode summaries (what names its instance). Returns the child
    rows in the cluster's order, or None when our lease on `job` was lost.
    """
    fields = log_fields(job, status.log)
    fields.update(status=Job.Status.RUNNING, params={**job.params, "children": list(status.children)})
    if "children" not in job.params:
        note = f"the cluster queued job(s) {', '.join(status.children)} for this one; it ends when they do"
        fields["log"] = with_note(fields.get("log", job.log), note)
    with transaction.atomic():
        mine = Job.objects.filter(pk=job.pk, lease_until=job.lease_until).exclude(status__in=Job.FINISHED)
        if not mine.update(**fields):
            return None
        for name, value in fields.items():
            setattr(job, name, value)
        known = Job.objects.filter(cluster_id=job.cluster_id, job_id__in=status.children, params__parent=job.pk)
        rows = {row.job_id: row for row in known}
        for child_id in status.children:
            if child_id not in rows:
                rows[child_id] = _child_row(job, child_id, summaries.get(child_id, ()))
    return [rows[child_id] for child_id in status.children]


def _child_row(job: Job, child_id: str, summaries: Sequence[str]) -> Job:
    """A Job row for a job the cluster submitted itself: already queued there, linked to its instance."""
    operation, name = child_operation(summaries)
    instance = None
    if name:
        live = Instance.objects.filter(cluster_id=job.cluster_id, name=name).exclude(status=Instance.Status.DELETED)
        instance = live.first()
    params: dict[str, Any] = {"parent": job.pk, "parent_job_id": job.job_id}
    if instance is not None:
        params["source_node"] = instance.primary_node  # what tells a move happened (dispatch.ALREADY_DONE)
    return Job.objects.create(
        cluster_id=job.cluster_id,
        job_id=child_id,
        operation=operation,
        target=name or f"job {child_id}",
        instance=instance,
        status=Job.Status.QUEUED,
        params=params,
        actor=job.actor,
    )


def children_outcome(status: JobStatus, children: Sequence[Job], infos: tuple[InstanceInfo, ...]) -> Outcome:
    """The outcome of a job whose children all finished: success when every child succeeded."""
    failed = [child for child in children if child.status != Job.Status.SUCCESS]
    error = "; ".join(
        f"job {child.job_id} ({child.operation} {child.target}) {child.status}: {child.error or 'no reason given'}"
        for child in failed
    )
    return Outcome(
        JobState.ERROR if failed else JobState.SUCCESS,
        error=error,
        cluster_time=cluster_time(status.ended_at),
        lines=status.log,
        infos=infos,
    )
