"""What Cinder (`compute.volume`) stores: volume types and volumes.

A volume is a disk of a backend_ganeti instance. Until its first attachment it exists only here
(`cluster` empty); the first attach adds it to the server's instance as a disk named after the
volume id, and from then on it lives on that cluster (`cluster` set), attached or detached (Ganeti
keeps detached disks). Statuses are strings whose transitions live in `compute.volume.states`.
Only `compute.volume.services` writes these rows.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from identity.models import Project


class VolumeType(models.Model):
    """A Cinder volume type: a name for a Ganeti disk template (`disk_template`, e.g. `file`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    disk_template = models.CharField(max_length=32)
    is_default = models.BooleanField(default=False)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VolumeQuerySet(models.QuerySet):
    """Restricted querysets: every volume query of the API starts here."""

    def for_project(self, project_id: str) -> VolumeQuerySet:
        """The project's volumes."""
        return self.filter(project_id=project_id)


class Volume(models.Model):
    """A block device of a project; `server`/`attachment_id` describe its one attachment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="volumes")
    user_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveIntegerField(help_text="GiB")
    status = models.CharField(max_length=32)
    volume_type = models.ForeignKey(VolumeType, on_delete=models.PROTECT, related_name="volumes")
    availability_zone = models.CharField(max_length=255, default="nova")
    metadata = models.JSONField(default=dict, blank=True)
    bootable = models.BooleanField(default=False)
    image_id = models.CharField(max_length=64, blank=True, default="")
    image_metadata = models.JSONField(default=dict, blank=True)
    # Where the data lives once materialised; `instance` is the attached (or last attached) instance.
    cluster = models.ForeignKey(
        "backend_ganeti.Cluster", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instance = models.ForeignKey(
        "backend_ganeti.Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The node holding the disk (file and plain disks are local to one node; Ganeti attaches them
    # only to instances whose primary node it is).
    node = models.CharField(max_length=255, blank=True, default="")
    # The backend job whose end moves the volume out of attaching/detaching/deleting.
    job = models.ForeignKey("backend_ganeti.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    server = models.ForeignKey(
        "compute.Server", null=True, blank=True, on_delete=models.SET_NULL, related_name="volumes"
    )
    attachment_id = models.UUIDField(null=True, blank=True)
    device = models.CharField(max_length=64, blank=True, default="")
    attached_at = models.DateTimeField(null=True, blank=True)
    fault = models.TextField(blank=True, default="")
    charged = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VolumeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["project", "created_at"]), models.Index(fields=["server"])]

    def __str__(self) -> str:
        return self.name or str(self.id)

    @property
    def disk_name(self) -> str:
        """The name of the volume's disk on its cluster."""
        return str(self.id)

    @property
    def materialised(self) -> bool:
        """True once the volume's disk exists on a cluster."""
        return self.cluster_id is not None
