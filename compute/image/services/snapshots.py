"""Images made from a server's disk (Nova's createImage), registered and filled on the owner's behalf.

Nova creates the image record at once (`queued`) and a worker later streams the disk's bytes in:
`create_snapshot_image` and `store_snapshot_data` are those two steps, and `discard_snapshot`
removes the record when reading the disk fails (Nova deletes a failed snapshot's image too);
`rotate_backups` deletes a server's older backups of one type (Nova's createBackup rotation).
They act with the authority of the server's project (`project_ctx`: a member of the owning
project), because the worker has no token; the caller (compute) has already checked the request.
The bytes go through the same upload path as `PUT /v2/images/{id}/file` (`data.upload_image_data`):
the owner's object store, `objectstore.bytes` charged, MD5/SHA-512 computed, `active` at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from compute.image import limits
from compute.image.models import Image, ImageProperty, Visibility
from compute.image.selectors import ListQuery, list_images
from compute.image.services import data, images
from compute.image.states import Status
from identity.models import Project
from identity.tokens import TokenContext, service_context
from portal.errors import Forbidden, NotFound

logger = logging.getLogger(__name__)

# Base-image properties a snapshot does not inherit (Nova's non-inheritable image properties).
NOT_INHERITED = frozenset({"description", "kernel_id", "ramdisk_id", "image_location", "image_state", "owner_id"})
NOT_INHERITED_PREFIXES = ("img_signature",)


def project_ctx(project: Project) -> TokenContext:
    """The authority snapshots act with: a member of the project that owns the server and the image."""
    return service_context(project, name="compute", roles=("member", "reader"), ttl=3600)


def inherited_properties(base_image_id: str) -> tuple[dict[str, str], int, int]:
    """The base image's inheritable properties, min_disk and min_ram (empty/0 when it is gone)."""
    base = Image.objects.filter(pk=base_image_id).first() if base_image_id else None
    if base is None:
        return {}, 0, 0
    properties = {
        p.name: p.value
        for p in ImageProperty.objects.filter(image=base)
        if p.value is not None and p.name not in NOT_INHERITED and not p.name.startswith(NOT_INHERITED_PREFIXES)
    }
    return properties, base.min_disk, base.min_ram


def create_snapshot_image(
    *, project: Project, name: str, properties: dict[str, str], min_disk: int, min_ram: int, actor: Any
) -> Image:
    """Register a private raw/bare image of `project` (status `queued`, no data yet).

    `properties` are checked as any Glance property (a reserved or read-only name is refused).
    """
    attrs: dict[str, Any] = {
        **properties,
        "name": name,
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": Visibility.PRIVATE.value,
        "min_disk": min_disk,
        "min_ram": min_ram,
    }
    return images.create_image(project_ctx(project), attrs, actor=actor)


class _ChunkReader:
    """A `read(n)` over an iterator of byte chunks (the upload path reads by size)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def __call__(self, size: int) -> bytes:
        while len(self._buffer) < size:
            piece = next(self._chunks, None)
            if piece is None:
                break
            self._buffer += piece
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def store_snapshot_data(image_id: str, chunks: Iterator[bytes], *, length: int, actor: Any) -> Image:
    """Upload `length` bytes from `chunks` as the snapshot's data; the image ends `active`.

    Raises what an upload raises (QuotaExceeded when the owner's store is full, Gone when the
    image was deleted meanwhile, InvalidState unless it was queued); the image is back to
    `queued` then.
    """
    image = Image.objects.filter(pk=image_id).select_related("project").first()
    if image is None:
        raise NotFound(f"No image found with ID {image_id}")
    if image.status == Status.SAVING:  # a worker died in an earlier attempt: start again
        Image.objects.filter(pk=image_id, status=Status.SAVING).update(status=Status.QUEUED)
    ctx = project_ctx(image.project)
    return data.upload_image_data(ctx, image_id, _ChunkReader(chunks), length=length, actor=actor)


def discard_snapshot(image_id: str, *, reason: str, actor: Any) -> None:
    """Delete a snapshot image whose data could not be stored (nothing happens if it is gone)."""
    image = Image.objects.filter(pk=image_id).select_related("project").first()
    if image is None:
        return
    logger.warning("snapshot image %s discarded: %s", image_id, reason)
    try:
        images.delete_image(project_ctx(image.project), image_id, actor=actor)
    except NotFound:
        return


def rotate_backups(project: Project, *, instance_uuid: str, backup_type: str, keep: int, actor: Any) -> list[str]:
    """Delete all but the newest `keep` backups of a server and backup type owned by `project`.

    The backups are the images Glance lists for the project with properties image_type=backup,
    `backup_type` and `instance_uuid` (newest first); each is deleted through Glance's delete
    (a protected one is kept and logged). The ids deleted are returned.
    """
    ctx = project_ctx(project)
    wanted = {"image_type": "backup", "backup_type": backup_type, "instance_uuid": instance_uuid}
    found: list[str] = []
    marker: str | None = None
    while True:
        query = ListQuery(
            filters={"owner": project.pk},
            properties=wanted,
            include_hidden=True,
            sort=(("created_at", "desc"),),
            limit=limits.LIST_MAX_LIMIT,
            marker=marker,
        )
        rows, more = list_images(ctx, query)
        found += [image.id for image in rows]
        if not more or not rows:
            break
        marker = rows[-1].id
    deleted = []
    for image_id in found[keep:]:
        try:
            images.delete_image(ctx, image_id, actor=actor)
        except NotFound:
            continue
        except Forbidden as exc:
            logger.warning("backup %s kept by the rotation: %s", image_id, exc.message)
            continue
        deleted.append(image_id)
    return deleted
