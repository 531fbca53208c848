"""Image data: upload into, and download from, the owner's object store (Synnefo's Plankton pattern).

An upload streams the request body into the object `images/<image id>` of the owner's account
through objectstore's write path (blocks stored as they arrive, the size charged to
`objectstore.bytes`), computing MD5 (`checksum`, also the object's ETag) and SHA-512
(`os_hash_value`) on the way; no more than one block is held in memory. The image moves
queued → saving (first transaction, so a second upload is refused with 409) → active (last
transaction); any failure in between puts it back to queued, and nothing becomes visible.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from compute.image import limits
from compute.image.errors import Gone
from compute.image.models import Image
from compute.image.services import access
from compute.image.states import Action, Status, next_status
from identity.tokens import TokenContext
from objectstore.services import for_images
from portal import audit
from portal.errors import Forbidden, QuotaExceeded, ValidationFailed

logger = logging.getLogger(__name__)

Reader = Callable[[int], bytes]
Ranger = Callable[[int], tuple[int, int] | None]


class _Hashing:
    """Wraps a reader, feeding every piece it returns to a hash."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self.hash = hashlib.new(limits.HASH_ALGO)

    def __call__(self, size: int) -> bytes:
        piece = self._read(size)
        self.hash.update(piece)
        return piece


def _begin(ctx: TokenContext, image_id: str) -> Image:
    """Move the image to `saving` (409 unless queued; 400 while its formats are unset)."""
    with transaction.atomic():
        image = access.writable(ctx, image_id)
        missing = [name for name in ("disk_format", "container_format") if not getattr(image, name)]
        if missing and image.status == Status.QUEUED:
            noun = "Property" if len(missing) == 1 else "Properties"
            raise ValidationFailed(f"{noun} {', '.join(missing)} must be set prior to saving data.")
        image.status = next_status(image.status, Action.BEGIN_UPLOAD)
        image.updated_at = timezone.now()
        image.save(update_fields=["status", "updated_at"])
    return image


def _abort(image_id: str) -> None:
    """Put an image whose upload failed back to `queued` (if nobody deleted it meanwhile)."""
    Image.objects.filter(pk=image_id, status=Status.SAVING).update(
        status=next_status(Status.SAVING, Action.ABORT_UPLOAD), updated_at=timezone.now()
    )


def upload_image_data(ctx: TokenContext, image_id: str, read: Reader, *, length: int | None, actor: Any) -> Image:
    """Store the image's bytes as an object of its owner and activate it.

    Raises QuotaExceeded (413) when the owner's `objectstore.bytes` cannot take them, Gone (410)
    when the image was deleted during the upload, InvalidState (409) unless it was queued.
    """
    image = _begin(ctx, image_id)
    project = image.project
    hashing = _Hashing(read)
    done = False
    try:
        try:
            written = for_images.write_object(
                project,
                limits.DATA_CONTAINER,
                image.id,
                hashing,
                length=length,
                actor=actor,
                metadata={
                    "Image-Id": image.id,
                    "Image-Name": image.name or "",
                    "Image-Disk-Format": image.disk_format or "",
                    "Image-Container-Format": image.container_format or "",
                },
            )
        except QuotaExceeded as exc:
            raise QuotaExceeded(
                f"Denying attempt to upload image because it exceeds the quota: {exc.message}",
                resource=exc.resource,
                limit=exc.limit,
                usage=exc.usage,
                requested=exc.requested,
            ) from exc
        image = _finish(image.id, written, hashing.hash.hexdigest(), project=project, actor=actor)
        done = True
    finally:
        if not done:
            _abort(image.id)
    return image


def _finish(image_id: str, written: for_images.WrittenObject, digest: str, *, project: Any, actor: Any) -> Image:
    """Record the stored data on the image and activate it (or drop the data if the image is gone)."""
    with transaction.atomic():
        image = Image.objects.select_for_update().filter(pk=image_id, status=Status.SAVING).first()
        if image is not None:
            image.status = next_status(image.status, Action.FINISH_UPLOAD)
            image.size = written.size
            image.virtual_size = None
            image.checksum = written.etag
            image.os_hash_algo = limits.HASH_ALGO
            image.os_hash_value = digest
            image.data_container = written.container
            image.data_object = written.name
            image.updated_at = timezone.now()
            image.save()
            detail = {"size": written.size, "object": f"{written.container}/{written.name}"}
            audit.record(actor, "image.upload", image, detail=detail)
    if image is None:
        for_images.delete_object(project, written.container, written.name, actor=actor, etag=written.etag)
        raise Gone(
            f"Image {image_id} could not be found after upload. The image may have been deleted during the upload."
        )
    return image


@dataclass(frozen=True)
class ImageData:
    """A download: the image's size and checksum, the served range, and the bytes as a stream."""

    size: int
    checksum: str | None
    start: int
    end: int
    chunks: Iterator[bytes]
    partial: bool = False


def open_image_data(ctx: TokenContext, image_id: str, *, ranger: Ranger | None = None) -> ImageData | None:
    """The image's bytes, or None when it has no data (Glance's 204).

    `ranger(size)` picks the bytes [start, end] to serve (or None for all; it raises for a range
    that cannot be served). A deactivated image's data is for cloud admins only (403). Data whose
    object was deleted or replaced in the object store since the upload counts as no data.
    """
    image = access.visible(ctx, image_id)
    if image.status == Status.DEACTIVATED and not ctx.is_admin:
        raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
    if image.status not in (Status.ACTIVE, Status.DEACTIVATED) or not image.data_object:
        return None
    size = image.size or 0
    picked = ranger(size) if ranger is not None else None
    start, end = picked if picked is not None else (0, size - 1)
    opened = for_images.open_object(
        image.project, image.data_container, image.data_object, etag=image.checksum, start=start, end=end
    )
    if opened is None:
        logger.warning("image data missing from the object store", extra={"image": image.id})
        return None
    return ImageData(
        size=opened.size,
        checksum=image.checksum,
        start=start,
        end=end,
        chunks=opened.chunks,
        partial=picked is not None,
    )


def has_data(image: Image) -> bool:
    """Whether the image's data object still holds the bytes it was uploaded with."""
    if not image.data_object:
        return False
    etag = for_images.object_etag(image.project, image.data_container, image.data_object)
    return etag is not None and etag == image.checksum
