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
from compute.services.states import Action, TaskState, check
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


@transaction.atomic
def create_image(server: Server, *, name: str, metadata: dict[str, str], ctx: TokenContext, actor: Any) -> Image:
    """Start a snapshot of the server's root disk; the new image (queued) is returned at once."""
    row = lock_server(server)
    rule = check(Action.CREATE_IMAGE, row, is_admin=ctx.is_admin)
    instance = row.instance
    if instance is None or instance.status == Instance.Status.DELETED:
        raise InvalidState(f"Instance {row.pk} is not ready")
    instance = Instance.objects.select_related("cluster").get(pk=instance.pk)
    if instance.disk_template == "diskless" or not instance.disks:
        raise Conflict(f"{WHAT} is not possible for server {row.pk}: it has no disk (disk template diskless).")
    check_cluster(instance.cluster)
    disk_data.require_disk_data(instance.cluster, what=WHAT)
    properties, min_disk, min_ram = _snapshot_properties(row, metadata)
    image = image_snapshots.create_snapshot_image(
        project=row.project, name=name, properties=properties, min_disk=min_disk, min_ram=min_ram, actor=actor
    )
    row.task_state = rule.task
    row.updated_at = timezone.now()
    row.save()
    audit.record(actor, "server.create_image", row, detail={"cluster": row.host, "image": image.id})
    server_id, image_id = str(row.pk), image.id
    transaction.on_commit(lambda: _enqueue(server_id, image_id))
    return image


def _enqueue(server_id: str, image_id: str) -> None:
    from compute import tasks

    tasks.snapshot_server.delay(server_id, image_id)


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
