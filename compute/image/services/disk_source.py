"""Image bytes to be written onto a disk (Cinder volumes created from an image).

The volume service asks, before the disk exists, whether the image can be written as it is
(`check_writable`: only `raw` and `iso` data is a disk image byte for byte; qcow2, vmdk and the
others would need a conversion this service does not do), and later opens the bytes on behalf of
the volume's project (`open_for_project`: the image must still be visible to that project,
active, and its data intact).
"""

from __future__ import annotations

from compute.image.models import Image
from compute.image.services import data
from compute.image.services.snapshots import project_ctx
from identity.models import Project
from portal.errors import NotFound, ValidationFailed

WRITABLE_FORMATS = ("raw", "iso")


def check_writable(image_id: str) -> Image:
    """The image, if its data can be written onto a disk unchanged (ValidationFailed otherwise)."""
    image = Image.objects.filter(pk=image_id).first()
    if image is None:
        raise ValidationFailed(f"Image {image_id} no longer exists: its data cannot be written to the volume.")
    if image.disk_format not in WRITABLE_FORMATS:
        raise ValidationFailed(
            f"Image {image_id} has disk_format {image.disk_format}: only {' and '.join(WRITABLE_FORMATS)} images "
            "can be written to a volume (no format conversion is done)."
        )
    return image


def open_for_project(project: Project, image_id: str) -> data.ImageData:
    """The image's bytes as `project` may read them; NotFound when it has none (any more)."""
    opened = data.open_image_data(project_ctx(project), image_id)
    if opened is None:
        raise NotFound(f"Image {image_id} has no data (it is not active, or its object was changed or deleted).")
    return opened
