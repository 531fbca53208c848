"""Instance and node operations: check the request, record a Job, and queue it on commit.

Each public function validates (cluster offline or unreachable -> ClusterOffline; instance status
-> InvalidState 409; deleted instance -> NotFound), writes the Job row (status `submitting`) and
an audit record in one transaction, and enqueues `tasks.run_job` only after that transaction
commits: the caller gets its answer before the cluster is asked. The state rules are one table,
`states.ALLOWED`. `console_info` is the one synchronous call (a read of the cluster). The
operations on an instance's disks and NICs are in `devices`, built on `instance_op`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction

from backend_ganeti import tasks
from backend_ganeti.drivers import registry
from backend_ganeti.drivers.types import ConsoleInfo, CreateSpec
from backend_ganeti.errors import ClusterDrained, ClusterError, ClusterOffline
from backend_ganeti.models import Cluster, Instance, Job, Node
from backend_ganeti.rapi.errors import ClusterUnreachable, RapiError
from backend_ganeti.rapi.errors import NotFound as ClusterNotFound
from backend_ganeti.services import allocation, jobs, placement
from backend_ganeti.services.dispatch import Operation, spec_to_params
from backend_ganeti.services.events import release_name
from backend_ganeti.states import ALLOWED, PHRASES
from portal import audit
from portal.errors import Conflict, InvalidState, NotFound, ValidationFailed

S = Instance.Status
EVACUATE_MODES = ("all", "primary-only", "secondary-only")
UNFINISHED = [s for s in Job.Status.values if s not in Job.FINISHED]


def actor_label(actor: Any) -> str:
    """Who asked, as Job.actor keeps it."""
    return str(getattr(actor, "name", "") or (actor if isinstance(actor, str) else "") or "system")[:255]


def check_cluster(cluster: Cluster) -> None:
    """Refuse to send anything to an offline or unreachable cluster."""
    if cluster.state == Cluster.State.OFFLINE:
        raise ClusterOffline(f"Cluster {cluster.name} is offline: no operation is sent to it.")
    if not cluster.reachable:
        reason = f" ({cluster.last_error})" if cluster.last_error else ""
        raise ClusterOffline(f"Cluster {cluster.name} is unreachable{reason}; try again when it answers.")


def _enqueue(job: Job) -> None:
    pk = job.pk
    transaction.on_commit(lambda: tasks.run_job.delay(pk))


def _record_job(
    cluster: Cluster, op: Operation, target: str, *, instance: Instance | None, params: dict, actor: Any
) -> Job:
    return Job.objects.create(
        cluster=cluster, operation=op, target=target, instance=instance, params=params, actor=actor_label(actor)
    )


def _lock(instance: Instance, op: Operation) -> Instance:
    """The instance row, locked, after the cluster, status and in-flight checks for `op`."""
    row = Instance.objects.select_for_update().filter(pk=instance.pk).first()
    if row is None or row.status == S.DELETED:
        raise NotFound(f"Could not find instance {instance.name}.")
    cluster = Cluster.objects.get(pk=row.cluster_id)
    row.cluster = cluster
    check_cluster(cluster)
    if row.status not in ALLOWED[op]:
        raise InvalidState(f"Cannot {PHRASES.get(op, op.value)} instance {row.name} while it is {row.status}.")
    busy = Job.objects.filter(instance=row, status__in=UNFINISHED)
    if op == Operation.DESTROY:
        busy = busy.filter(operation=Operation.DESTROY) | busy.filter(
            operation=Operation.CREATE, status=Job.Status.SUBMITTING
        )
    pending = busy.order_by("created_at").first()
    if pending is not None:
        raise InvalidState(
            f"Instance {row.name} has job {pending.pk} ({pending.operation}, {pending.status}) in progress; "
            "try again when it has finished."
        )
    return row


Params = Callable[[Instance], dict[str, Any]]


@transaction.atomic
def instance_op(instance: Instance, op: Operation, action: str, params: Params, *, actor: Any) -> Job:
    """The common shape of every instance operation; `params` is built from the locked row."""
    row = _lock(instance, op)
    values = params(row)
    job = _record_job(row.cluster, op, row.name, instance=row, params=values, actor=actor)
    audit.record(actor, f"backend.{action}", row, detail={"cluster": row.cluster.name, "job": job.pk, **values})
    _enqueue(job)
    return job


def positive(label: str, value: Any, least: int = 1) -> int:
    """`value` if it is an integer >= `least`; ValidationFailed naming `label` otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValidationFailed(f"{label} must be an integer >= {least}.")
    return value


def checked_index(label: str, index: Any, items: list) -> int:
    """`index` if it names one of `items` (any index when the list is not known yet)."""
    positive(label, index, 0)
    if items and index >= len(items):
        raise ValidationFailed(f"{label} {index} does not exist (the instance has {len(items)}).")
    return index


# --- create ---------------------------------------------------------------------------------------


def _validate_spec(spec: CreateSpec) -> None:
    if not spec.name or len(spec.name) > 200:
        raise ValidationFailed("An instance name of 1 to 200 characters is required.")
    positive("vcpus", spec.vcpus)
    positive("memory_mb", spec.memory_mb)
    if not spec.disk_template:
        raise ValidationFailed("A disk template is required.")
    for disk in spec.disks:
        positive("disk size_mb", disk.size_mb)


def _free_name(cluster: Cluster, name: str) -> float:
    """Make `name` usable on `cluster` (Conflict while a live instance has it); see `release_name`."""
    existing = Instance.objects.select_for_update().filter(cluster=cluster, name=name).first()
    if existing is not None and existing.status != S.DELETED:
        raise Conflict(f"Cluster {cluster.name} has an instance named {name} already.")
    return release_name(cluster.pk, name)


def _request(project: Any, spec: CreateSpec, disk_mb: int) -> placement.Request:
    return allocation.request_for(
        project, vcpus=spec.vcpus, memory_mb=spec.memory_mb, disk_mb=disk_mb, disk_template=spec.disk_template
    )


@transaction.atomic
def create_instance(
    *,
    project: Any,
    owner_ref: str,
    spec: CreateSpec,
    cluster: Cluster | None = None,
    hints: placement.NodeHints | None = None,
    actor: Any,
) -> Instance:
    """Record a new instance (status building) and its create job; the allocator picks the cluster
    unless one is given (then no capacity is reserved: an admin's explicit choice). `hints` (a
    server group's) make the allocator name the node too (NoCapacity when a strict one cannot hold)."""
    _validate_spec(spec)
    disk_mb = sum(d.size_mb for d in spec.disks)
    reserved = None
    node = None
    if cluster is None:
        chosen = allocation.choose_placement(_request(project, spec, disk_mb), hints)
        cluster, node = chosen.cluster, chosen.node
        reserved = {"vcpus": spec.vcpus, "memory_mb": spec.memory_mb, "disk_mb": disk_mb}
        reserved["disk_template"] = spec.disk_template
    else:
        cluster = Cluster.objects.get(pk=cluster.pk)
        check_cluster(cluster)
        if cluster.state == Cluster.State.DRAINED:
            raise ClusterDrained(f"Cluster {cluster.name} is drained: it takes no new instances.")
        if cluster.disk_templates and spec.disk_template not in cluster.disk_templates:
            raise ValidationFailed(f"Cluster {cluster.name} does not allow disk template {spec.disk_template}.")
        if hints is not None:
            node = allocation.node_for(cluster, _request(project, spec, disk_mb), hints)
    if node and not spec.primary_node:
        spec = replace(spec, primary_node=node)
    backend_time = _free_name(cluster, spec.name)
    try:
        with transaction.atomic():
            instance = Instance.objects.create(
                cluster=cluster,
                name=spec.name,
                project=project,
                owner_ref=owner_ref,
                status=S.BUILDING,
                primary_node=spec.primary_node or "",  # the node asked for; events report the real one
                admin_up=spec.start,
                vcpus=spec.vcpus,
                memory_mb=spec.memory_mb,
                disk_template=spec.disk_template,
                disks=[
                    {"size_mb": d.size_mb, "template": d.template or spec.disk_template, "name": d.name}
                    for d in spec.disks
                ],
                nics=[
                    {"mac": n.mac, "ip": n.ip, "network": n.network, "link": n.link, "name": n.name} for n in spec.nics
                ],
                os=spec.os,
                backend_time=backend_time,
            )
    except IntegrityError as exc:
        raise Conflict(f"Cluster {cluster.name} has an instance named {spec.name} already.") from exc
    params: dict[str, Any] = {"spec": spec_to_params(spec)}
    if reserved:
        params["reserved"] = reserved
    job = _record_job(cluster, Operation.CREATE, spec.name, instance=instance, params=params, actor=actor)
    audit.record(
        actor,
        "backend.create_instance",
        instance,
        detail={
            "cluster": cluster.name,
            "job": job.pk,
            "vcpus": spec.vcpus,
            "memory_mb": spec.memory_mb,
            "disk_mb": disk_mb,
            "disk_template": spec.disk_template,
        },
    )
    _enqueue(job)
    return instance


# --- lifecycle ------------------------------------------------------------------------------------


def start_instance(instance: Instance, *, actor: Any) -> Job:
    """Power the instance on."""
    return instance_op(instance, Operation.START, "start_instance", lambda row: {}, actor=actor)


def stop_instance(instance: Instance, *, timeout: int | None = None, actor: Any) -> Job:
    """Shut the instance down, forcing it off after `timeout` seconds."""
    if timeout is not None:
        positive("timeout", timeout, 0)
    return instance_op(instance, Operation.STOP, "stop_instance", lambda row: {"timeout": timeout}, actor=actor)


def reboot_instance(instance: Instance, *, hard: bool = False, actor: Any) -> Job:
    """Reboot the guest (soft) or reset it (hard)."""
    return instance_op(instance, Operation.REBOOT, "reboot_instance", lambda row: {"hard": bool(hard)}, actor=actor)


def destroy_instance(instance: Instance, *, actor: Any) -> Job:
    """Remove the instance and its disks from the cluster (the row ends `deleted`)."""
    return instance_op(instance, Operation.DESTROY, "destroy_instance", lambda row: {}, actor=actor)


def resize_instance(instance: Instance, *, vcpus: int, memory_mb: int, actor: Any) -> Job:
    """Change vCPUs and memory."""
    values = {"vcpus": positive("vcpus", vcpus), "memory_mb": positive("memory_mb", memory_mb)}
    return instance_op(instance, Operation.RESIZE, "resize_instance", lambda row: values, actor=actor)


def migrate_instance(instance: Instance, *, target_node: str | None = None, live: bool = True, actor: Any) -> Job:
    """Move a running instance to another node (its secondary, or `target_node`)."""

    def params(row: Instance) -> dict[str, Any]:
        return {"target_node": target_node, "live": bool(live), "source_node": row.primary_node}

    return instance_op(instance, Operation.MIGRATE, "migrate_instance", params, actor=actor)


def failover_instance(instance: Instance, *, target_node: str | None = None, actor: Any) -> Job:
    """Restart the instance on its secondary node (or `target_node` for shared storage)."""

    def params(row: Instance) -> dict[str, Any]:
        return {"target_node": target_node, "source_node": row.primary_node}

    return instance_op(instance, Operation.FAILOVER, "failover_instance", params, actor=actor)


def change_disk_template(instance: Instance, template: str, *, secondary_node: str | None = None, actor: Any) -> Job:
    """Convert the instance's disks to `template` (the instance must be stopped)."""
    if not template:
        raise ValidationFailed("A disk template is required.")

    def params(row: Instance) -> dict[str, Any]:
        if template == row.disk_template:
            raise InvalidState(f"Instance {row.name} uses disk template {template} already.")
        if row.cluster.disk_templates and template not in row.cluster.disk_templates:
            raise ValidationFailed(f"Cluster {row.cluster.name} does not allow disk template {template}.")
        return {"template": template, "secondary_node": secondary_node}

    return instance_op(instance, Operation.CHANGE_DISK_TEMPLATE, "change_disk_template", params, actor=actor)


# --- nodes and jobs -------------------------------------------------------------------------------


@transaction.atomic
def _node_op(node: Node, op: Operation, params: dict[str, Any], *, actor: Any) -> Job:
    row = Node.objects.select_related("cluster").filter(pk=node.pk).first()
    if row is None:
        raise NotFound(f"Could not find node {node.name}.")
    check_cluster(row.cluster)
    job = _record_job(row.cluster, op, row.name, instance=None, params=params, actor=actor)
    audit.record(actor, f"backend.{op}", row, detail={"cluster": row.cluster.name, "job": job.pk, **params})
    _enqueue(job)
    return job


def evacuate_node(node: Node, *, mode: str = "all", actor: Any) -> Job:
    """Move instances off `node` (mode all, primary-only or secondary-only)."""
    if mode not in EVACUATE_MODES:
        raise ValidationFailed(f"mode must be one of {', '.join(EVACUATE_MODES)}.")
    return _node_op(node, Operation.EVACUATE_NODE, {"mode": mode}, actor=actor)


def set_node_drained(node: Node, drained: bool, *, actor: Any) -> Job:
    """Drain (no new instances) or undrain a node."""
    return _node_op(node, Operation.SET_NODE_DRAINED, {"drained": bool(drained)}, actor=actor)


@transaction.atomic
def cancel_job(job: Job, *, actor: Any) -> Job:
    """Cancel an unfinished job: at once when it never reached the cluster, else through the cluster
    (which refuses once the job runs; the watcher then reports what really happened)."""
    row = Job.objects.select_for_update().select_related("cluster").filter(pk=job.pk).first()
    if row is None:
        raise NotFound(f"Could not find job {job.pk}.")
    if row.finished:
        raise InvalidState(f"Job {row.pk} has finished ({row.status}); it cannot be canceled.")
    audit.record(actor, "backend.cancel_job", row, detail={"cluster": row.cluster.name, "job_id": row.job_id})
    if not row.job_id and jobs.cancel_unsubmitted(row):
        return row
    if row.job_id:
        check_cluster(row.cluster)
        pk = row.pk
        transaction.on_commit(lambda: tasks.cancel_job.delay(pk))
    Job.objects.filter(pk=row.pk).exclude(status__in=Job.FINISHED).update(status=Job.Status.CANCELING)
    row.refresh_from_db()
    return row


def console_info(instance: Instance) -> ConsoleInfo:
    """Where the running instance's console listens (asks the cluster now)."""
    row = Instance.objects.select_related("cluster").filter(pk=instance.pk).first()
    if row is None or row.status == S.DELETED:
        raise NotFound(f"Could not find instance {instance.name}.")
    check_cluster(row.cluster)
    if row.status != S.RUNNING:
        raise InvalidState(f"Instance {row.name} has no console while it is {row.status}.")
    driver = registry.driver_for(row.cluster)
    try:
        return driver.console(row.name)
    except ClusterUnreachable as exc:
        jobs.mark_unreachable(row.cluster, exc)
        raise ClusterOffline(f"Cluster {row.cluster.name} is unreachable: {exc.message}") from exc
    except ClusterNotFound as exc:
        raise NotFound(f"Cluster {row.cluster.name} has no instance {row.name}.") from exc
    except RapiError as exc:
        raise ClusterError(str(exc)) from exc
    finally:
        driver.close()
