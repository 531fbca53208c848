"""Creating and deleting servers, and finding the one a caller names.

`create_servers` is Nova's boot: it checks the flavor, image, key pair and zone (reads only, before
the write transaction: on SQLite that transaction holds the database's write lock, so concurrent
boots queue on it for as short a time as possible), then, in one transaction per request, records
each server, binds its ports (compute.network), asks backend_ganeti for an instance (the job is
enqueued when the transaction commits) and charges its quota; each server row is written once.
A server no cluster can take is kept in ERROR with Nova's "No valid host was found." fault
(the request still answers 202, as Nova does). `delete_server` asks the backend to destroy the
instance; ports and quota are given back when the backend confirms (`finish_delete`), or at once
for a server that never reached a cluster.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend_ganeti.drivers.types import CreateSpec, DiskSpec, NicSpec
from backend_ganeti.errors import NoCapacity
from backend_ganeti.models import Cluster, Instance
from backend_ganeti.services import operations
from compute.image.services.boot import BootImage, image_for_boot
from compute.models import Flavor, Keypair, Server, ServerQuerySet
from compute.network.services.binding import PortBinding, allocate_server_ports, release_server_ports
from compute.services import charges, flavors, server_groups, zones
from compute.services.states import Action, PowerState, TaskState, VmState, check
from compute.volume.services import server_delete
from identity.models import Project
from identity.tokens import TokenContext
from portal import audit
from portal.errors import InvalidState, NotFound, ValidationFailed

NO_VALID_HOST = "No valid host was found. "


@dataclass(frozen=True)
class ServerRequest:
    """A boot request as the API layer checked it (Nova's `server` body)."""

    name: str
    flavor_ref: str
    image_ref: str
    networks: list[dict[str, Any]] | str = "auto"
    key_name: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    min_count: int = 1
    max_count: int = 1
    description: str | None = None
    security_groups: tuple[str, ...] = ()
    config_drive: bool = False
    disk_config: str = "MANUAL"
    access_ipv4: str = ""
    access_ipv6: str = ""
    group: str | None = None  # the server group to join (os:scheduler_hints)


# --- lookups --------------------------------------------------------------------------------------


def visible_servers(ctx: TokenContext) -> ServerQuerySet:
    """The servers a caller may address by id: its project's (an admin's reach is every project)."""
    if ctx.is_admin:
        return Server.objects.all()  # type: ignore[return-value]
    return Server.objects.for_project(ctx.project_id or "")


def server_pk(server_id: str) -> uuid.UUID:
    """The id a caller gave as a UUID; NotFound (Nova's wording) when it is none."""
    try:
        return uuid.UUID(str(server_id))
    except ValueError:
        raise NotFound(f"Instance {server_id} could not be found.") from None


def get_server(ctx: TokenContext, server_id: str, *, queryset: Any = None) -> Server:
    """The live server `server_id` the caller may see; NotFound (Nova's wording) otherwise."""
    pk = server_pk(server_id)
    rows = queryset if queryset is not None else visible_servers(ctx)
    server = rows.live().filter(pk=pk).first()
    if server is None:
        raise NotFound(f"Instance {server_id} could not be found.")
    return server


def lock_server(server: Server) -> Server:
    """The server row, locked for the rest of the transaction (NotFound once deleted)."""
    row = Server.objects.select_for_update(of=("self",)).select_related("instance").filter(pk=server.pk).first()
    if row is None or row.deleted_at is not None:
        raise NotFound(f"Instance {server.pk} could not be found.")
    return row


# --- create ---------------------------------------------------------------------------------------


def _flavor(ctx: TokenContext, ref: str) -> Flavor:
    flavor_id = ref.rstrip("/").rsplit("/", 1)[-1] if ref else ""
    try:
        flavor = flavors.get_visible(ctx, flavor_id)
    except NotFound:
        raise ValidationFailed(f"Flavor {flavor_id} could not be found.") from None
    if flavor.disabled:
        raise ValidationFailed("Flavor is disabled.")
    return flavor


def _image(ctx: TokenContext, ref: str, flavor: Flavor) -> BootImage:
    image_id = ref.rstrip("/").rsplit("/", 1)[-1] if ref else ""
    if not image_id:
        raise ValidationFailed("Can not find requested image")
    try:
        image = image_for_boot(ctx=ctx, image_id=image_id)
    except NotFound:
        raise ValidationFailed("Can not find requested image") from None
    if flavor.ram < image.min_ram:
        raise ValidationFailed("Flavor's memory is too small for requested image.")
    if flavor.disk and (flavor.disk < image.min_disk or image.size > flavor.disk * 1024**3):
        raise ValidationFailed("Flavor's disk is too small for requested image.")
    return image


def _keypair(user_id: str, key_name: str | None) -> Keypair | None:
    if key_name is None:
        return None
    keypair = Keypair.objects.for_user(user_id).filter(name=key_name).first()
    if keypair is None:
        raise ValidationFailed("Invalid key_name provided.")
    return keypair


def backend_name(server_id: uuid.UUID) -> str:
    """The instance name a server gets on its cluster (a valid host name, unique per server)."""
    return f"nefos-{server_id.hex}"


def _nic(binding: PortBinding) -> NicSpec:
    """A backend NIC for a port: its MAC, its first (IPv4 first) address, its L2 link.

    The link "default" means the cluster's own default NIC parameters, so it is left unset.
    """
    ips = sorted((ip for _, ip in binding.fixed_ips), key=lambda ip: ":" in ip)
    link = None if binding.link in ("", "default") else binding.link
    return NicSpec(mac=binding.mac, ip=ips[0] if ips else None, link=link, name=f"port-{binding.port_id}")


def _os_params(image: BootImage, server: Server) -> dict[str, Any]:
    """The image's deployment parameters plus what the site maps (settings.COMPUTE_OS_PARAMS).

    COMPUTE_OS_PARAMS names the OS parameter for each of `user_data`, `ssh_key`, `hostname` and
    `server_id`; by default none is passed, since a Ganeti OS definition refuses parameters it
    does not declare.
    """
    params = dict(image.os_params)
    names: dict[str, str] = getattr(settings, "COMPUTE_OS_PARAMS", {}) or {}
    values = {"user_data": server.user_data, "ssh_key": server.key_data, "hostname": server.name}
    values["server_id"] = str(server.pk)
    for what, param in names.items():
        if values.get(what):
            params[param] = values[what]
    return params


def _spec(server: Server, image: BootImage, bindings: list[PortBinding]) -> CreateSpec:
    template = flavors.disk_template_of(server.flavor_extra_specs)
    disks = [DiskSpec(size_mb=max(server.disk, 1) * 1024, name="root")]
    if server.ephemeral:
        disks.append(DiskSpec(size_mb=server.ephemeral * 1024, name="ephemeral"))
    return CreateSpec(
        name=backend_name(server.pk),
        vcpus=server.vcpus,
        memory_mb=server.ram,
        disk_template=template,
        disks=tuple(disks),
        nics=tuple(_nic(b) for b in bindings),
        os=image.os,
        os_params=_os_params(image, server),
    )


def set_fault(server: Server, message: str, *, code: int = 500, details: str = "") -> None:
    """Record the reason a server is in ERROR (shown as its `fault`)."""
    server.fault_code, server.fault_message, server.fault_details = code, message[:4000], details[:4000]
    server.fault_at = timezone.now()


def _create_one(
    ctx: TokenContext,
    req: ServerRequest,
    *,
    project: Project,
    flavor: Flavor,
    image: BootImage,
    cluster: Cluster | None,
    fields: dict[str, Any],
    actor: Any,
) -> Server:
    """Bind one server's ports, ask for its instance, charge its quota, then record it (one INSERT:
    the ports, the instance and the charge name the server by its id, no row refers to it)."""
    server = Server(project=project, user_id=ctx.user_id, **fields)
    server.set_flavor(flavor.snapshot())
    group = server_groups.admit(project, req.group)
    try:
        bindings = allocate_server_ports(
            project=project,
            user=actor,
            server_id=str(server.pk),
            requests=req.networks,
            security_groups=req.security_groups,
        )
    except NotFound as exc:
        raise ValidationFailed(exc.message) from None  # Nova: an unknown network or port is a 400
    try:
        instance = operations.create_instance(
            project=project,
            owner_ref=str(server.pk),
            spec=_spec(server, image, bindings),
            cluster=cluster,
            hints=server_groups.hints_of(group),
            actor=actor,
        )
    except NoCapacity as exc:
        server.vm_state, server.task_state = VmState.ERROR, None
        set_fault(server, NO_VALID_HOST, details=exc.message)
    else:
        server.instance, server.host, server.instance_name = instance, instance.cluster.name, instance.name
        server.availability_zone = server.availability_zone or instance.cluster.name
        server.task_state = TaskState.SPAWNING
    charges.charge_server(server, actor=actor)
    server.save(force_insert=True)
    server_groups.join(group, server)
    return server


def _fields(req: ServerRequest, index: int, image: BootImage, keypair: Keypair | None, reservation: str) -> dict:
    """The columns of the `index`-th server of a request (Nova numbers names when booting several)."""
    return {
        "name": req.name if req.max_count == 1 else f"{req.name}-{index + 1}",
        "description": req.description,
        "vm_state": VmState.BUILDING,
        "task_state": TaskState.SCHEDULING,
        "power_state": PowerState.NOSTATE,
        "image_id": image.id,
        "key_name": keypair.name if keypair else None,
        "key_data": keypair.public_key if keypair else "",
        "user_data": req.user_data,
        "metadata": dict(req.metadata),
        "security_groups": list(req.security_groups or ("default",)),
        "availability_zone": req.availability_zone or "",
        "reservation_id": reservation,
        "launch_index": index,
        "config_drive": "True" if req.config_drive else "",
        "disk_config": req.disk_config,
        "access_ipv4": req.access_ipv4,
        "access_ipv6": req.access_ipv6,
    }


def create_servers(ctx: TokenContext, req: ServerRequest, *, actor: Any) -> tuple[list[Server], str]:
    """Boot `min_count`..`max_count` servers (as many as the quota allows); returns them and their
    reservation id. Raises ValidationFailed (400), Forbidden (403, over quota) or Conflict (409)."""
    project = Project.objects.get(pk=ctx.project_id)
    flavor = _flavor(ctx, req.flavor_ref)
    image = _image(ctx, req.image_ref, flavor)
    keypair = _keypair(ctx.user_id, req.key_name)
    cluster = zones.cluster_for_zone(project, req.availability_zone) if req.availability_zone else None
    with transaction.atomic():
        return _record_servers(
            ctx, req, project=project, flavor=flavor, image=image, keypair=keypair, cluster=cluster, actor=actor
        )


def _record_servers(
    ctx: TokenContext,
    req: ServerRequest,
    *,
    project: Project,
    flavor: Flavor,
    image: BootImage,
    keypair: Keypair | None,
    cluster: Cluster | None,
    actor: Any,
) -> tuple[list[Server], str]:
    """The write half of `create_servers`, inside its transaction."""
    reservation = f"r-{secrets.token_hex(4)}"
    servers: list[Server] = []
    for index in range(req.max_count):
        fields = _fields(req, index, image, keypair, reservation)
        try:
            with transaction.atomic():
                server = _create_one(
                    ctx, req, project=project, flavor=flavor, image=image, cluster=cluster, fields=fields, actor=actor
                )
        except charges.OverQuota:
            if index < req.min_count:
                raise
            break
        audit.record(
            actor,
            "server.create",
            server,
            detail={"flavor": flavor.pk, "image": image.id, "cluster": server.host, "state": server.vm_state},
        )
        servers.append(server)
    return servers, reservation


# --- delete ---------------------------------------------------------------------------------------


def finish_delete(server: Server, *, actor: Any) -> None:
    """The server is gone from its cluster (or never reached one): mark it deleted, free its
    ports now and its quota after the commit. The caller holds the row lock and saves nothing else."""
    now = timezone.now()
    release_server_ports(str(server.pk), actor=actor)
    charges.release_server(server, actor=actor)
    server.vm_state, server.task_state, server.power_state = VmState.DELETED, None, PowerState.NOSTATE
    server.deleted_at = server.terminated_at = server.updated_at = now
    server.delete_requested = False
    server.save()
    audit.record(actor, "server.deleted", server, detail={"cluster": server.host})


def request_destroy(server: Server, *, actor: Any, retry: bool = False) -> bool:
    """Ask the backend to destroy the server's instance; False when it cannot take it yet (its
    create has not reached the cluster, a destroy is queued, or its volumes are being detached
    first: Ganeti would remove their disks): `delete_requested` then says so. A volume the cluster
    refuses to detach fails the delete (ERROR, fault); `retry` (the request itself) tries again."""
    release = server_delete.release_volumes(server, retry=retry, actor=actor)
    if release.failure:
        server.vm_state, server.task_state, server.delete_requested = VmState.ERROR, None, False
        set_fault(server, f"Delete failed: {release.failure}")
        return False
    if release.waiting:
        server.delete_requested = True
        return False
    try:
        operations.destroy_instance(server.instance, actor=actor)
    except InvalidState:
        server.delete_requested = True
        return False
    except NotFound:
        return False
    server.delete_requested = False
    return True


@transaction.atomic
def delete_server(server: Server, *, is_admin: bool, actor: Any) -> None:
    """Delete a server: destroy its instance (the backend's event finishes the job) or, when it has
    none on a cluster, finish at once. Deleting a server already being deleted changes nothing."""
    row = lock_server(server)
    rule = check(Action.DELETE, row, is_admin=is_admin)
    if row.task_state == TaskState.DELETING:
        return
    audit.record(actor, "server.delete", row, detail={"cluster": row.host, "state": row.vm_state})
    instance: Instance | None = row.instance
    if instance is None or instance.status == Instance.Status.DELETED:
        finish_delete(row, actor=actor)
        return
    row.task_state = rule.task
    request_destroy(row, actor=actor, retry=True)
    row.updated_at = timezone.now()
    row.save()
