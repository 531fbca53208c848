"""The default public image that `bootstrap` seeds, so a new user can create a server at once.

On the embedded (simulated) host no disk is ever read, so the image is a small file clearly
labelled as simulated; a site with real clusters registers real images (see docs/image.md).
"""

from __future__ import annotations

import io

from compute.image.models import Image, Visibility
from compute.image.services import data, images
from compute.image.states import Status
from identity.models import Project
from identity.tokens import TokenContext, service_context

SEED_NAME = "cirros-0.6-simulated"
SEED_SIZE = 4096
SEED_DESCRIPTION = (
    "SIMULATED IMAGE: a 4 KiB placeholder, not a bootable disk. Servers built from it run only on "
    "the embedded simulated host; upload a real image (e.g. CirrOS or Debian cloud) for real clusters."
)


def seed_content() -> bytes:
    """The seed image's bytes: a readable label padded to SEED_SIZE."""
    label = (
        b"NEFOS SIMULATED IMAGE - NOT A BOOTABLE DISK\n"
        b"name: cirros-0.6-simulated\n"
        b"This file stands in for a CirrOS 0.6 disk on the embedded simulated host.\n"
    )
    return label + b"\0" * (SEED_SIZE - len(label))


def _system_ctx(project: Project) -> TokenContext:
    """The authority bootstrap acts with: an admin of the owning project."""
    return service_context(project, name="system", roles=("admin", "member", "reader"), ttl=60)


def seed_default_image(*, owner_project: Project) -> Image:
    """Create (once) the public simulated image owned by `owner_project`, with its data uploaded."""
    ctx = _system_ctx(owner_project)
    image = Image.objects.filter(project=owner_project, name=SEED_NAME).order_by("created_at").first()
    if image is None:
        image = images.create_image(
            ctx,
            {
                "name": SEED_NAME,
                "disk_format": "raw",
                "container_format": "bare",
                "visibility": Visibility.PUBLIC.value,
                "min_disk": 0,
                "min_ram": 0,
                "description": SEED_DESCRIPTION,
                "os_distro": "cirros",
                "os_version": "0.6",
                "nefos:simulated": "true",
            },
            actor=None,
        )
    if image.status == Status.QUEUED:
        content = seed_content()
        image = data.upload_image_data(ctx, image.id, io.BytesIO(content).read, length=len(content), actor=None)
    return image
