"""Volume types: one per disk template volumes can use, seeded on bootstrap; the default one."""

from __future__ import annotations

import uuid

from django.db import transaction

from compute.volume.models import VolumeType
from portal.errors import NotFound

# The seeded types: (name, disk template, description). `file` is the default: the template the
# embedded libvirt host and the lab's clusters can attach; `drbd`/`plain` exist for real clusters.
SEED = (
    ("file", "file", "Disks stored as files on the instance's primary node (Ganeti's file template)."),
    ("drbd", "drbd", "Disks mirrored on two nodes with DRBD (Ganeti's drbd template)."),
    ("plain", "plain", "LVM logical volumes on the primary node (Ganeti's plain template)."),
)
DEFAULT = "file"
# Templates whose disks live on one node: Ganeti attaches such a detached disk only to an instance
# whose primary node holds it ("Disk nodes are [...] while the instance's nodes are (...)").
NODE_LOCAL = frozenset({"file", "plain"})


@transaction.atomic
def seed_volume_types() -> list[VolumeType]:
    """Create the seeded types that are missing (idempotent); exactly one is the default."""
    made = []
    for name, template, description in SEED:
        vtype, _ = VolumeType.objects.get_or_create(
            name=name, defaults={"disk_template": template, "description": description, "is_default": name == DEFAULT}
        )
        made.append(vtype)
    if not VolumeType.objects.filter(is_default=True).exists():
        VolumeType.objects.filter(name=DEFAULT).update(is_default=True)
    return made


def default_type() -> VolumeType:
    """The default volume type (seeded on first use, as bootstrap would)."""
    vtype = VolumeType.objects.filter(is_default=True).first()
    if vtype is None:
        seed_volume_types()
        vtype = VolumeType.objects.get(is_default=True)
    return vtype


def find_type(ref: str) -> VolumeType:
    """A volume type by name or id (Cinder accepts both), else Cinder's 404."""
    found = VolumeType.objects.filter(name=ref).first()
    if found is None:
        try:
            key = uuid.UUID(str(ref))
        except ValueError:
            key = None
        found = VolumeType.objects.filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(f"Volume type with name {ref} could not be found.")
    return found
