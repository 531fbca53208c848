"""Cluster services: add, reconfigure, drain, assign, remove and refresh the clusters the portal drives.

A cluster is contacted (through its driver) before it is added or re-pointed, so a wrong endpoint
or credential is refused at once with a clear message. `refresh_cluster` mirrors the cluster's
node groups and nodes and recomputes the capacity snapshot the allocator reads.

Passwords never leave this module in a message: errors, audit details and logs carry field
names only, and any cluster message that happens to contain the password is redacted.
Network calls happen outside database transactions; each function's writes are one transaction.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from backend_ganeti.drivers.registry import driver_for
from backend_ganeti.drivers.types import ClusterSummary, NodeGroupInfo, NodeInfo
from backend_ganeti.errors import ClusterOffline, InvalidState
from backend_ganeti.models import Cluster, Instance, Node, NodeGroup
from backend_ganeti.rapi.errors import AuthenticationFailed, ClusterUnreachable, RapiError
from backend_ganeti.services.placement import KNOWN_TEMPLATES
from portal import audit
from portal.errors import Conflict, ValidationFailed
from portal.models import AuditEvent

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Fields `update_cluster` accepts; state and project assignment have their own services.
UPDATABLE = ("name", "endpoint", "username", "password", "clear_password", "ca_file", "disk_templates")
CONNECTION_FIELDS = ("endpoint", "username", "password", "ca_file")
REDACTED = "***"
# NodeInfo fields copied as they are onto Node rows.
_NODE_FACTS = ("address", "role", "drained", "offline", "vm_capable", "pinst_cnt", "sinst_cnt")
_NODE_CAPACITY = ("mtotal", "mfree", "dtotal", "dfree", "ctotal")
# What a refresh writes on the Cluster row: never the reserved_* columns, which allocations
# may be incrementing concurrently.
_CLUSTER_CAPACITY = ("mem_total_mb", "mem_free_mb", "disk_total_mb", "disk_free_mb", "cpu_total", "cpu_used")
_CLUSTER_FACTS = ("software_version", "hypervisor", "reachable", "last_error", "last_seen", "capacity_updated_at")


@dataclass(frozen=True)
class _Snapshot:
    """What one round of queries returned from a cluster."""

    summary: ClusterSummary
    groups: list[NodeGroupInfo]
    nodes: list[NodeInfo]


# --- validation ----------------------------------------------------------------------------------


def _validate_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ValidationFailed("A cluster name is 1-64 lower-case letters, digits or dashes, starting with one.")
    return name


def _validate_endpoint(kind: str, endpoint: str) -> str:
    """https:// for Ganeti RAPI; unix:///abs/path (the host agent's socket) for the libvirt host."""
    endpoint = (endpoint or "").strip()
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError:
        raise ValidationFailed(f"The endpoint {endpoint} is not a valid URL.") from None
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("Put credentials in the username and password fields, not in the endpoint URL.")
    if kind == Cluster.Kind.GANETI:
        if parts.scheme != "https" or not parts.hostname:
            raise ValidationFailed("A Ganeti endpoint is the cluster's RAPI URL, https://host:5080.")
        return endpoint
    if parts.scheme != "unix" or parts.netloc or not parts.path.startswith("/"):
        raise ValidationFailed("A libvirt host endpoint is its agent's socket, unix:///absolute/path.")
    return endpoint


def _validate_ca_file(ca_file: str) -> str:
    ca_file = (ca_file or "").strip()
    if ca_file and (not os.path.isabs(ca_file) or not os.path.isfile(ca_file)):
        raise ValidationFailed(f"The CA file {ca_file} is not an existing file (give an absolute path).")
    return ca_file


def _validate_templates(templates: Iterable[str]) -> list[str]:
    if isinstance(templates, str):
        templates = [templates]
    cleaned = list(dict.fromkeys(t.strip() for t in templates if t and t.strip()))
    unknown = [t for t in cleaned if t not in KNOWN_TEMPLATES]
    if unknown:
        raise ValidationFailed(f"Unknown disk template(s): {', '.join(unknown)}. Known: {', '.join(KNOWN_TEMPLATES)}.")
    return cleaned


def _redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced (cluster messages are echoed to admins)."""
    return text.replace(secret, REDACTED) if secret else text


# --- talking to the cluster ----------------------------------------------------------------------


def _fetch(cluster: Cluster) -> _Snapshot:
    """Summary, groups and nodes of `cluster` in one connection; raises the RapiError family."""
    driver = driver_for(cluster)
    try:
        return _Snapshot(summary=driver.summary(), groups=list(driver.groups()), nodes=list(driver.nodes()))
    finally:
        driver.close()


def _contact(cluster: Cluster) -> _Snapshot:
    """`_fetch`, with the cluster's refusal turned into a message an admin can act on."""
    try:
        return _fetch(cluster)
    except ClusterUnreachable as exc:
        reason = _redact(str(exc), cluster.password)
        raise ClusterOffline(f"Cluster {cluster.name} at {cluster.endpoint} cannot be reached: {reason}") from None
    except AuthenticationFailed as exc:
        raise ValidationFailed(
            f"Cluster {cluster.name} at {cluster.endpoint} refused the credentials of user "
            f"{cluster.username or '(none)'} (HTTP {exc.status})."
        ) from None
    except RapiError as exc:
        reason = _redact(str(exc), cluster.password)
        raise ValidationFailed(
            f"Cluster {cluster.name} at {cluster.endpoint} did not answer as a {cluster.kind} cluster: {reason}"
        ) from None


# --- writing what the cluster said ---------------------------------------------------------------


def _counts(node: NodeInfo) -> bool:
    """True when the node's capacity belongs in the snapshot (it can take new instances)."""
    return node.vm_capable and not node.offline and not node.drained and node.role not in ("O", "D")


def _apply(cluster: Cluster, snapshot: _Snapshot) -> tuple[list[str], list[str]]:
    """Mirror groups and nodes, recompute capacity, mark reachable; returns (added, removed) node names."""
    now = timezone.now()
    groups = {g.name: g for g in cluster.groups.all()}
    for info in snapshot.groups:
        group = groups.get(info.name)
        if group is None:
            groups[info.name] = NodeGroup.objects.create(
                cluster=cluster, name=info.name, uuid=info.uuid, alloc_policy=info.alloc_policy
            )
        elif (group.uuid, group.alloc_policy) != (info.uuid, info.alloc_policy):
            group.uuid, group.alloc_policy = info.uuid, info.alloc_policy
            group.save(update_fields=["uuid", "alloc_policy"])
    reported_groups = {info.name for info in snapshot.groups}
    cluster.groups.exclude(name__in=reported_groups).delete()
    by_uuid = {g.uuid: g for g in groups.values() if g.uuid and g.name in reported_groups}

    existing = {n.name: n for n in cluster.nodes.all()}
    to_create, to_update = [], []
    for info in snapshot.nodes:
        group = groups.get(info.group) if info.group in reported_groups else by_uuid.get(info.group)
        values: dict[str, Any] = {field: getattr(info, field) for field in (*_NODE_FACTS, *_NODE_CAPACITY)}
        values.update(group=group, updated_at=now)
        node = existing.get(info.name)
        if node is None:
            to_create.append(Node(cluster=cluster, name=info.name, **values))
        else:
            for attr, value in values.items():
                setattr(node, attr, value)
            to_update.append(node)
    Node.objects.bulk_create(to_create)
    if to_update:
        Node.objects.bulk_update(to_update, [*_NODE_FACTS, *_NODE_CAPACITY, "group", "updated_at"])
    reported = {info.name for info in snapshot.nodes}
    removed = sorted(set(existing) - reported)
    cluster.nodes.filter(name__in=removed).delete()

    usable = [n for n in snapshot.nodes if _counts(n)]
    cluster.mem_total_mb = sum(n.mtotal or 0 for n in usable)
    cluster.mem_free_mb = sum(n.mfree or 0 for n in usable)
    cluster.disk_total_mb = sum(n.dtotal or 0 for n in usable)
    cluster.disk_free_mb = sum(n.dfree or 0 for n in usable)
    cluster.cpu_total = sum(n.ctotal or 0 for n in usable)
    used = Instance.objects.filter(cluster=cluster).exclude(status=Instance.Status.DELETED).aggregate(v=Sum("vcpus"))
    cluster.cpu_used = used["v"] or 0
    cluster.software_version = snapshot.summary.software_version[:64]
    cluster.hypervisor = snapshot.summary.hypervisor[:32]
    cluster.reachable, cluster.last_error, cluster.last_seen, cluster.capacity_updated_at = True, "", now, now
    cluster.save(update_fields=[*_CLUSTER_CAPACITY, *_CLUSTER_FACTS])
    return sorted(reported - set(existing)), removed


# --- services --------------------------------------------------------------------------------------


def add_cluster(
    *,
    name: str,
    kind: str,
    endpoint: str,
    username: str = "",
    password: str = "",
    ca_file: str = "",
    public: bool = True,
    disk_templates: Sequence[str] = (),
    actor: Any,
) -> Cluster:
    """Validate, contact the cluster, then record it with its nodes and capacity.

    `disk_templates` empty means "the templates the cluster has enabled now" (stored as a list,
    so the allocator never sends a template the cluster cannot build); a template the cluster has
    not enabled is refused. Raises ValidationFailed, Conflict, or ClusterOffline (unreachable).
    """
    name = _validate_name(name)
    if kind not in Cluster.Kind.values:
        raise ValidationFailed(f"A cluster kind is one of: {', '.join(Cluster.Kind.values)}.")
    cluster = Cluster(
        name=name,
        kind=kind,
        endpoint=_validate_endpoint(kind, endpoint),
        username=(username or "").strip(),
        password=password or "",
        ca_file=_validate_ca_file(ca_file),
        public=bool(public),
        disk_templates=_validate_templates(disk_templates),
    )
    if Cluster.objects.filter(name=name).exists():
        raise Conflict(f"A cluster named {name} exists already.")
    snapshot = _contact(cluster)
    enabled = list(snapshot.summary.disk_templates)
    if cluster.disk_templates and enabled:
        missing = [t for t in cluster.disk_templates if t not in enabled]
        if missing:
            raise ValidationFailed(
                f"Cluster {name} has not enabled disk template(s) {', '.join(missing)} (enabled: {', '.join(enabled)})."
            )
    elif not cluster.disk_templates:
        cluster.disk_templates = _validate_templates(t for t in enabled if t in KNOWN_TEMPLATES)
    with transaction.atomic():
        try:
            with transaction.atomic():
                cluster.save()
        except IntegrityError:  # added by someone else while this one was being contacted
            raise Conflict(f"A cluster named {name} exists already.") from None
        _apply(cluster, snapshot)
        audit.record(
            actor,
            "backend.add_cluster",
            cluster,
            detail={
                "kind": kind,
                "endpoint": cluster.endpoint,
                "username": cluster.username,
                "public": cluster.public,
                "disk_templates": cluster.disk_templates,
                "nodes": len(snapshot.nodes),
            },
        )
    log.info("cluster %s added (%s, %d nodes)", name, kind, len(snapshot.nodes))
    return cluster


def update_cluster(cluster: Cluster, *, actor: Any, **fields: Any) -> Cluster:
    """Change name, endpoint, credentials, CA file or allowed disk templates.

    Password: `password=""` (or None) keeps the stored one, so a form can leave it blank;
    `clear_password=True` removes it. New connection settings are tried against the cluster
    before they are saved, unless the cluster is offline (an admin may re-point a cluster that is
    down; its next refresh tells). The audit detail lists changed field names, never values of
    credentials.
    """
    unknown = sorted(set(fields) - set(UPDATABLE))
    if unknown:
        raise ValidationFailed(
            f"Cannot update {', '.join(unknown)} here (use set_cluster_state / set_cluster_projects for state "
            f"and assignment). Updatable: {', '.join(f for f in UPDATABLE if f != 'clear_password')}."
        )
    changes: dict[str, Any] = {}
    if fields.get("name") is not None:
        changes["name"] = _validate_name(fields["name"])
    if fields.get("endpoint") is not None:
        changes["endpoint"] = _validate_endpoint(cluster.kind, fields["endpoint"])
    if fields.get("username") is not None:
        changes["username"] = str(fields["username"]).strip()
    if fields.get("clear_password"):
        changes["password"] = ""
    elif fields.get("password"):
        changes["password"] = str(fields["password"])
    if fields.get("ca_file") is not None:
        changes["ca_file"] = _validate_ca_file(fields["ca_file"])
    if fields.get("disk_templates") is not None:
        changes["disk_templates"] = _validate_templates(fields["disk_templates"])
    changed = sorted(key for key, value in changes.items() if getattr(cluster, key) != value)
    if not changed:
        return cluster
    if "name" in changed and Cluster.objects.filter(name=changes["name"]).exclude(pk=cluster.pk).exists():
        raise Conflict(f"A cluster named {changes['name']} exists already.")
    if set(changed) & set(CONNECTION_FIELDS) and cluster.state != Cluster.State.OFFLINE:
        probe = Cluster(
            name=changes.get("name", cluster.name),
            kind=cluster.kind,
            **{key: changes.get(key, getattr(cluster, key)) for key in CONNECTION_FIELDS},
        )
        _contact(probe)
    with transaction.atomic():
        for key in changed:
            setattr(cluster, key, changes[key])
        cluster.save(update_fields=changed)
        detail: dict[str, Any] = {"fields": changed}
        detail.update({key: changes[key] for key in changed if key in ("name", "endpoint", "username", "ca_file")})
        if "disk_templates" in changed:
            detail["disk_templates"] = changes["disk_templates"]
        audit.record(actor, "backend.update_cluster", cluster, detail=detail)
    return cluster


@transaction.atomic
def set_cluster_state(cluster: Cluster, state: str, *, actor: Any) -> Cluster:
    """Enable, drain (no new instances) or take offline (no operations at all) a cluster."""
    if state not in Cluster.State.values:
        raise ValidationFailed(f"A cluster state is one of: {', '.join(Cluster.State.values)}.")
    previous = cluster.state
    if previous != state:
        cluster.state = state
        cluster.save(update_fields=["state"])
        audit.record(actor, "backend.set_cluster_state", cluster, detail={"from": previous, "to": state})
    return cluster


@transaction.atomic
def set_cluster_projects(cluster: Cluster, projects: Iterable[Any], *, public: bool, actor: Any) -> Cluster:
    """Make a cluster public, or reserve it to `projects` (the assignment is kept either way)."""
    projects = list(projects)
    cluster.public = bool(public)
    cluster.save(update_fields=["public"])
    cluster.projects.set(projects)
    audit.record(
        actor,
        "backend.set_cluster_projects",
        cluster,
        detail={"public": cluster.public, "projects": sorted(str(p.pk) for p in projects)},
    )
    return cluster


@transaction.atomic
def remove_cluster(cluster: Cluster, *, actor: Any) -> None:
    """Forget a cluster that holds no instances (rows of deleted instances go with it)."""
    live = Instance.objects.filter(cluster=cluster).exclude(status=Instance.Status.DELETED).count()
    if live:
        raise InvalidState(
            f"Cluster {cluster.name} still holds {live} instance(s); destroy or move them before removing it."
        )
    name, pk = cluster.name, cluster.pk
    Instance.objects.filter(cluster=cluster, status=Instance.Status.DELETED).delete()
    cluster.delete()
    audit.record(
        actor,
        "backend.remove_cluster",
        target_type="backend_ganeti.cluster",
        target_id=str(pk),
        detail={"name": name},
    )


def refresh_cluster(cluster: Cluster) -> Cluster:
    """Sync summary, node groups, nodes and the capacity snapshot from the cluster.

    Unreachable (or refusing): the row gets reachable=False and last_error, then ClusterOffline is
    raised. Audited (actor: system) only when something an admin cares about changes:
    reachability flips, or nodes appear or disappear, so periodic refreshes do not flood the log.
    """
    try:
        snapshot = _fetch(cluster)
    except RapiError as exc:
        reason = _redact(str(exc), cluster.password)
        _mark_unreachable(cluster, reason)
        verb = "is unreachable" if isinstance(exc, ClusterUnreachable) else "refused the query"
        raise ClusterOffline(f"Cluster {cluster.name} {verb}: {reason}") from None
    with transaction.atomic():
        was_reachable = Cluster.objects.filter(pk=cluster.pk).values_list("reachable", flat=True).first()
        added, removed = _apply(cluster, snapshot)
        if was_reachable is False or added or removed:
            audit.record(
                None,
                "backend.refresh_cluster",
                cluster,
                detail={"reachable": True, "nodes_added": added, "nodes_removed": removed},
            )
    return cluster


def _mark_unreachable(cluster: Cluster, reason: str) -> None:
    """Record that the cluster did not answer (audited when it was reachable before)."""
    with transaction.atomic():
        was_reachable = Cluster.objects.filter(pk=cluster.pk).values_list("reachable", flat=True).first()
        cluster.reachable = False
        cluster.last_error = reason
        cluster.save(update_fields=["reachable", "last_error"])
        if was_reachable:
            audit.record(
                None,
                "backend.refresh_cluster",
                cluster,
                result=AuditEvent.Result.FAILURE,
                detail={"reachable": False, "error": reason},
            )
    log.warning("cluster %s unreachable: %s", cluster.name, reason)
