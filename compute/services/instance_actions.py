"""Nova's instance actions (os-instance-actions), read from the portal's audit log.

Every state-changing service call on a server is already an audit event (`portal.audit`) carrying
the request id, the actor and the server's project; an instance action is one such event, named
as Nova names it (`ACTIONS`). Volume attach/detach events name the volume as their target and the
server in their detail. The backend job a request submitted for the server's instance (found
through backend_ganeti's own `backend.*` audit event of the same request, or the `job` of a
volume event) gives the action's one event: its start, finish and result. Nothing is stored
twice: the audit log is the source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from backend_ganeti.models import Instance, Job
from compute.models import Server
from portal.models import AuditEvent

# Audit action -> Nova's action name.
ACTIONS = {
    "server.create": "create",
    "server.start": "start",
    "server.stop": "stop",
    "server.reboot": "reboot",
    "server.resize": "resize",
    "server.confirm_resize": "confirmResize",
    "server.revert_resize": "revertResize",
    "server.delete": "delete",
    "server.lock": "lock",
    "server.unlock": "unlock",
    "server.create_image": "createImage",
    "volume.attach": "attach_volume",
    "volume.detach": "detach_volume",
}
# Nova's name of the compute-side event of each action (the backend job plays that part here).
EVENTS = {
    "create": "compute__do_build_and_run_instance",
    "start": "compute_start_instance",
    "stop": "compute_stop_instance",
    "reboot": "compute_reboot_instance",
    "resize": "compute_resize_instance",
    "revertResize": "compute_revert_resize",
    "delete": "compute_terminate_instance",
    "attach_volume": "compute_attach_volume",
    "detach_volume": "compute_detach_volume",
}
SERVER_TARGET = Server._meta.label_lower
INSTANCE_TARGET = Instance._meta.label_lower
VOLUME_TARGET = "volume.volume"
VOLUME_ACTIONS = ("volume.attach", "volume.detach")
RESULTS = {Job.Status.SUCCESS: "Success", Job.Status.ERROR: "Error", Job.Status.CANCELED: "Error"}


@dataclass(frozen=True)
class ActionEvent:
    """The one event of an action: its backend job."""

    event: str
    start_time: datetime
    finish_time: datetime | None
    result: str | None
    traceback: str | None


@dataclass(frozen=True)
class InstanceAction:
    """One Nova instance action (an audit event), with its event when a backend job did the work."""

    action: str
    instance_uuid: str
    request_id: str
    user_id: str
    project_id: str
    start_time: datetime
    message: str | None
    events: tuple[ActionEvent, ...]


def _audit_rows(server: Server, request_id: str | None = None) -> list[AuditEvent]:
    """The audit events that are the server's actions, oldest first."""
    pk = str(server.pk)
    server_actions = [a for a in ACTIONS if a not in VOLUME_ACTIONS]
    rows = AuditEvent.objects.filter(
        Q(target_type=SERVER_TARGET, target_id=pk, action__in=server_actions)
        | Q(target_type=VOLUME_TARGET, action__in=VOLUME_ACTIONS, detail__server=pk),
        result=AuditEvent.Result.SUCCESS,
    )
    if request_id is not None:
        rows = rows.filter(request_id=request_id)
    return list(rows.order_by("time", "id"))


def _jobs(server: Server, rows: list[AuditEvent]) -> dict[int, list[Job]]:
    """The backend jobs each audit event's request submitted for the server (by audit event id)."""
    wanted: dict[int, list[int]] = {row.pk: [] for row in rows}
    for row in rows:
        job = row.detail.get("job") if isinstance(row.detail, dict) else None
        if isinstance(job, int):
            wanted[row.pk].append(job)
    by_request = {row.request_id: row.pk for row in rows if row.request_id and row.action not in VOLUME_ACTIONS}
    if server.instance_id is not None and by_request:
        backend = AuditEvent.objects.filter(
            request_id__in=list(by_request),
            target_type=INSTANCE_TARGET,
            target_id=str(server.instance_id),
            action__startswith="backend.",
        ).values_list("request_id", "detail")
        for request_id, detail in backend:
            job = detail.get("job") if isinstance(detail, dict) else None
            if isinstance(job, int):
                wanted[by_request[request_id]].append(job)
    found = Job.objects.in_bulk([pk for pks in wanted.values() for pk in pks])
    return {event: [found[pk] for pk in pks if pk in found] for event, pks in wanted.items()}


def _event(action: str, jobs: list[Job]) -> tuple[ActionEvent, ...]:
    """One event from the request's jobs (none without a job): first start, last end, worst result."""
    if not jobs:
        return ()
    start = min(job.started_at or job.created_at for job in jobs)
    finished = all(job.finished for job in jobs)
    failed = [job for job in jobs if job.finished and RESULTS[job.status] == "Error"]
    result = ("Error" if failed else "Success") if finished else None
    finish = max(job.ended_at or job.created_at for job in jobs) if finished else None
    traceback = "\n".join(job.error or job.status for job in failed) if failed else None
    return (ActionEvent(EVENTS.get(action, f"compute_{action}"), start, finish, result, traceback),)


def _actions(server: Server, rows: list[AuditEvent]) -> list[InstanceAction]:
    jobs = _jobs(server, rows)
    seen: set[str] = set()
    actions = []
    for row in rows:
        key = row.request_id or f"audit-{row.pk}"
        if key in seen:  # one action per request (Nova's rule)
            continue
        seen.add(key)
        name = ACTIONS[row.action]
        events = _event(name, jobs[row.pk])
        failed = any(event.result == "Error" for event in events)
        actions.append(
            InstanceAction(
                action=name,
                instance_uuid=str(server.pk),
                request_id=row.request_id,
                user_id=row.actor_id,
                project_id=row.project_id or str(server.project_id),
                start_time=row.time,
                message="Error" if failed else None,
                events=events,
            )
        )
    return actions


def list_actions(server: Server) -> list[InstanceAction]:
    """The server's actions, newest first (Nova's order)."""
    return list(reversed(_actions(server, _audit_rows(server))))


def get_action(server: Server, request_id: str) -> InstanceAction | None:
    """The server's action of request `request_id` (None when it has none)."""
    if not request_id:
        return None
    found = _actions(server, _audit_rows(server, request_id))
    return found[0] if found else None
