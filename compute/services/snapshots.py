"""createImage: a server's root disk becomes a Glance image (Nova's snapshot), where the cluster can.

`create_image` (the request) checks the server against the state table (ACTIVE or SHUTOFF, no
task), refuses a cluster that cannot read disk bytes (real Ganeti: 409, see
backend_ganeti.services.disk_data) or a diskless server, registers the image at once (`queued`,
private, raw/bare, owned by the server's project, properties `image_type=snapshot`,
`instance_uuid`, `base_image_ref`, the base image's inheritable ones and the request's metadata)
and sets task_state `image_snapshot`; on commit it enqueues `compute.tasks.snapshot_server`.
`run_snapshot` (the worker) streams disk 0 from the cluster into the image through Glance's
upload path (object store, quota, checksums): the image ends `active`, or is deleted with the
reason logged when anything fails; either way the task_state is cleared.

createBackup (`create_backup`, worker `run_backup`) is the same copy with properties
`image_type=backup`, `backup_type` and `instance_uuid` forced; once the backup is active the
worker deletes, through Glance's services, all but the newest `rotation` backups of that server
and type (Nova's `_rotate_backups`; rotation 0 deletes them all, the new one included).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.models import Instance
from backend_ganeti.services import disk_data
from backend_ganeti.services.operations import check_cluster
from compute.image.models import Image
from compute.image.services import snapshots as image_snapshots
from compute.image.states import Status as ImageStatus
from compute.models import Server
from compute.services.servers import lock_server
from compute.services.states import Action, Rule, TaskState, check
from identity.tokens import TokenContext
from portal import audit
from portal.errors import Conflict, InvalidState, NotFound

log = logging.getLogger(__name__)
WHAT = "Creating an image of a server (createImage)"


def _snapshot_properties(server: Server, metadata: dict[str, str]) -> tuple[dict[str, str], int, int]:
    """The new image's properties, min_disk and min_ram (Nova's snapshot metadata)."""
    properties, base_min_disk, base_min_ram = image_snapshots.inherited_properties(server.image_id)
    properties.update(
        image_type="snapshot",
        instance_uuid=str(server.pk),
        base_image_ref=server.image_id or "",
        user_id=server.user_id,
    )
    properties.update(metadata)
    # The data is the whole root disk, so a server booted from it needs at least that disk.
    return properties, max(base_min_disk, server.disk), base_min_ram


def _check_state(row: Server, ctx: TokenContext, action_name: str) -> Rule:
    """createImage's state rule (ACTIVE or SHUTOFF, no task), with the action's name in a 409."""
    try:
        return check(Action.CREATE_IMAGE, row, is_admin=ctx.is_admin)
    except InvalidState as exc:
        raise InvalidState(exc.message.replace("'createImage'", f"'{action_name}'")) from None


def _start(
    server: Server, *, name: str, metadata: dict[str, str], forced: dict[str, str], ctx: TokenContext, actor: Any
) -> tuple[Server, Image]:
    """Check the server, register the image (properties: snapshot ones, `metadata`, then `forced`)
    and mark the server busy; the caller enqueues the copy on commit. Call inside a transaction."""
    row = lock_server(server)
    rule = _check_state(row, ctx, "createBackup" if forced else "createImage")
    instance = row.instance
    if instance is None or instance.status == Instance.Status.DELETED:
        raise InvalidState(f"Instance {row.pk} is not ready")
    instance = Instance.objects.select_related("cluster").get(pk=instance.pk)
    if instance.disk_template == "diskless" or not instance.disks:
        raise Conflict(f"{WHAT} is not possible for server {row.pk}: it has no disk (disk template diskless).")
    check_cluster(instance.cluster)
    disk_data.require_disk_data(instance.cluster, what=WHAT)
    properties, min_disk, min_ram = _snapshot_properties(row, metadata)
    properties.update(forced)
    image = image_snapshots.create_snapshot_image(
        project=row.project, name=name, properties=properties, min_disk=min_disk, min_ram=min_ram, actor=actor
    )
    row.task_state = rule.task
    row.updated_at = timezone.now()
    row.save()
    return row, image


@transaction.atomic
def create_image(server: Server, *, name: str, metadata: dict[str, str], ctx: TokenContext, actor: Any) -> Image:
    """Start a snapshot of the server's root disk; the new image (queued) is returned at once."""
    row, image = _start(server, name=name, metadata=metadata, forced={}, ctx=ctx, actor=actor)
    audit.record(actor, "server.create_image", row, detail={"cluster": row.host, "image": image.id})
    server_id, image_id = str(row.pk), image.id
    transaction.on_commit(lambda: _enqueue(server_id, image_id))
    return image


@transaction.atomic
def create_backup(
    server: Server,
    *,
    name: str,
    backup_type: str,
    rotation: int,
    metadata: dict[str, str],
    ctx: TokenContext,
    actor: Any,
) -> Image:
    """Start a backup (a snapshot with image_type=backup and `backup_type`); the worker then keeps
    only the newest `rotation` backups of the server and type (0: none, the new one included)."""
    forced = {"image_type": "backup", "backup_type": backup_type, "instance_uuid": str(server.pk)}
    row, image = _start(server, name=name, metadata=metadata, forced=forced, ctx=ctx, actor=actor)
    detail = {"cluster": row.host, "image": image.id, "backup_type": backup_type, "rotation": rotation}
    audit.record(actor, "server.create_backup", row, detail=detail)
    server_id, image_id = str(row.pk), image.id
    transaction.on_commit(lambda: _enqueue_backup(server_id, image_id, backup_type, rotation))
    return image


def _enqueue(server_id: str, image_id: str) -> None:
    from compute import tasks

    tasks.snapshot_server.delay(server_id, image_id)


def _enqueue_backup(server_id: str, image_id: str, backup_type: str, rotation: int) -> None:
    from compute import tasks

    tasks.backup_server.delay(server_id, image_id, backup_type, rotation)


def run_snapshot(server_id: str, image_id: str) -> str:
    """Copy the server's disk 0 into the image (the worker's part); "active" or why it failed."""
    try:
        image = Image.objects.filter(pk=image_id).first()
        if image is None or image.status not in (ImageStatus.QUEUED, ImageStatus.SAVING):
            return f"skipped: image is {image.status if image else 'gone'}"
        server = Server.objects.select_related("instance").filter(pk=server_id, deleted_at__isnull=True).first()
        if server is None or server.instance is None:
            raise NotFound(f"Server {server_id} is gone.")
        with disk_data.read_instance_disk(server.instance, 0) as disk:
            image_snapshots.store_snapshot_data(image_id, disk.chunks, length=disk.size, actor=None)
        log.info("snapshot of server %s stored as image %s", server_id, image_id)
        return "active"
    except Exception as exc:  # any failure ends the snapshot: the image must not stay queued
        reason = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        log.exception("snapshot of server %s into image %s failed: %s", server_id, image_id, reason)
        image_snapshots.discard_snapshot(image_id, reason=reason, actor=None)
        return f"failed: {reason}"
    finally:
        Server.objects.filter(pk=server_id, task_state=TaskState.IMAGE_SNAPSHOT).update(
            task_state=None, updated_at=timezone.now()
        )


def run_backup(server_id: str, image_id: str, backup_type: str, rotation: int) -> str:
    """Copy the disk into the backup image (as `run_snapshot`), then rotate the server's backups
    of `backup_type` down to the newest `rotation`; "active" (with what was rotated) or why not."""
    result = run_snapshot(server_id, image_id)
    if result != "active":
        return result
    image = Image.objects.filter(pk=image_id).select_related("project").first()
    if image is None:
        return "active; rotation skipped: the backup is gone"
    try:
        deleted = image_snapshots.rotate_backups(
            image.project, instance_uuid=server_id, backup_type=backup_type, keep=rotation, actor=None
        )
    except Exception as exc:  # the backup itself is made: report, do not fail it
        log.exception("rotating the %s backups of server %s failed", backup_type, server_id)
        return f"active; rotation failed: {getattr(exc, 'message', '') or exc}"
    log.info("backup of server %s stored as image %s; rotated out %s", server_id, image_id, deleted)
    return f"active; rotated {len(deleted)}"
