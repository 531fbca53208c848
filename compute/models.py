"""What Nova (the `compute` app) stores: flavors, key pairs, servers and their tags.

Only `compute.services` writes these rows. Servers keep a snapshot of the flavor they were built
with (Nova's embedded flavor), so deleting a flavor never changes a server. Server states are
strings (`vm_state`, `task_state`, `power_state`); their meaning and every allowed transition
live in one table, `compute.services.states`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from identity.models import Project


class FlavorQuerySet(models.QuerySet):
    """Flavors as a caller may see them."""

    def visible_to(self, project_id: str | None, *, is_admin: bool) -> FlavorQuerySet:
        """Every flavor for an admin; public ones and private ones shared with the project otherwise."""
        if is_admin:
            return self
        return self.filter(Q(is_public=True) | Q(projects__pk=project_id or "")).distinct()


class Flavor(models.Model):
    """A server size: vCPUs, RAM (MiB), root disk (GiB), with extra specs such as `nefos:disk_template`."""

    id = models.CharField(primary_key=True, max_length=255)
    name = models.CharField(max_length=255, unique=True)
    vcpus = models.PositiveIntegerField()
    ram = models.PositiveIntegerField(help_text="MiB")
    disk = models.PositiveIntegerField(help_text="Root disk, GiB")
    ephemeral = models.PositiveIntegerField(default=0, help_text="GiB")
    swap = models.PositiveIntegerField(default=0, help_text="MiB")
    rxtx_factor = models.FloatField(default=1.0)
    is_public = models.BooleanField(default=True)
    disabled = models.BooleanField(default=False)
    extra_specs = models.JSONField(default=dict, blank=True)
    projects = models.ManyToManyField(Project, blank=True, related_name="flavors", help_text="Access to a private one")
    created_at = models.DateTimeField(default=timezone.now)

    objects = FlavorQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def snapshot(self) -> dict[str, Any]:
        """The flavor as a server keeps it (Nova's embedded flavor)."""
        return {
            "id": self.id,
            "name": self.name,
            "vcpus": self.vcpus,
            "ram": self.ram,
            "disk": self.disk,
            "ephemeral": self.ephemeral,
            "swap": self.swap,
            "extra_specs": dict(self.extra_specs),
        }


class KeypairQuerySet(models.QuerySet):
    """Key pairs belong to users (Nova's rule), not projects."""

    def for_user(self, user_id: str) -> KeypairQuerySet:
        """The user's own key pairs."""
        return self.filter(user_id=user_id)


class Keypair(models.Model):
    """An SSH public key (or X.509 certificate) a user can inject into servers."""

    class Type(models.TextChoices):
        SSH = "ssh", "SSH"
        X509 = "x509", "X.509"

    user_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.SSH)
    public_key = models.TextField()
    fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    objects = KeypairQuerySet.as_manager()

    class Meta:
        ordering = ["user_id", "name"]
        constraints = [models.UniqueConstraint(fields=["user_id", "name"], name="uniq_keypair_per_user")]

    def __str__(self) -> str:
        return self.name


class ServerQuerySet(models.QuerySet):
    """Restricted querysets: every server query of the API starts here."""

    def for_project(self, project_id: str) -> ServerQuerySet:
        """The project's servers (deleted ones included; see `live`)."""
        return self.filter(project_id=project_id)

    def live(self) -> ServerQuerySet:
        """Servers that are not deleted."""
        return self.filter(deleted_at__isnull=True)


class Server(models.Model):
    """A Nova server: what the user asked for, its state, and where backend_ganeti put it.

    `instance` is the backend_ganeti row building it (its `owner_ref` is this server's id);
    `host`, `node` and `instance_name` copy the cluster, primary node and instance name the
    backend reported, so listings never join the backend's tables. `charged` is what the quota
    ledger holds for this server (released when it is deleted).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Deleting a project deletes its server rows; instances still on clusters stay visible to admins
    # in backend_ganeti (project unset) and are not destroyed here.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="servers")
    user_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    description = models.CharField(max_length=255, null=True, blank=True)
    vm_state = models.CharField(max_length=16)
    task_state = models.CharField(max_length=32, null=True, blank=True)
    power_state = models.CharField(max_length=16)
    progress = models.PositiveSmallIntegerField(default=0)
    # The flavor snapshot (Nova's embedded flavor) and, while resizing, the other one.
    flavor_id = models.CharField(max_length=255)
    flavor_name = models.CharField(max_length=255)
    vcpus = models.PositiveIntegerField()
    ram = models.PositiveIntegerField()
    disk = models.PositiveIntegerField()
    ephemeral = models.PositiveIntegerField(default=0)
    swap = models.PositiveIntegerField(default=0)
    flavor_extra_specs = models.JSONField(default=dict, blank=True)
    old_flavor = models.JSONField(null=True, blank=True, help_text="The flavor before a resize (until confirmed)")
    new_flavor = models.JSONField(null=True, blank=True, help_text="The flavor a running resize goes to")
    image_id = models.CharField(max_length=64, blank=True, default="")
    key_name = models.CharField(max_length=255, null=True, blank=True)
    key_data = models.TextField(blank=True, default="")
    user_data = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    security_groups = models.JSONField(default=list, blank=True)
    availability_zone = models.CharField(max_length=255, blank=True, default="")
    reservation_id = models.CharField(max_length=32, default="")
    launch_index = models.PositiveIntegerField(default=0)
    config_drive = models.CharField(max_length=16, blank=True, default="")
    disk_config = models.CharField(max_length=8, default="MANUAL")
    access_ipv4 = models.CharField(max_length=64, blank=True, default="")
    access_ipv6 = models.CharField(max_length=64, blank=True, default="")
    locked = models.BooleanField(default=False)
    locked_by = models.CharField(max_length=8, blank=True, default="", help_text="owner or admin")
    instance = models.ForeignKey(
        "backend_ganeti.Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    host = models.CharField(max_length=64, blank=True, default="", help_text="The cluster")
    node = models.CharField(max_length=255, blank=True, default="", help_text="The primary node")
    instance_name = models.CharField(max_length=255, blank=True, default="")
    fault_code = models.PositiveSmallIntegerField(null=True, blank=True)
    fault_message = models.TextField(blank=True, default="")
    fault_details = models.TextField(blank=True, default="")
    fault_at = models.DateTimeField(null=True, blank=True)
    delete_requested = models.BooleanField(default=False, help_text="Delete once the backend can take it")
    charged = models.JSONField(default=dict, blank=True, help_text="Quota the ledger holds for it")
    resize_serial = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    launched_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ServerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "created_at", "id"], name="server_project_created_idx"),
            models.Index(fields=["updated_at"], name="server_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def flavor(self) -> dict[str, Any]:
        """The current flavor snapshot."""
        return {
            "id": self.flavor_id,
            "name": self.flavor_name,
            "vcpus": self.vcpus,
            "ram": self.ram,
            "disk": self.disk,
            "ephemeral": self.ephemeral,
            "swap": self.swap,
            "extra_specs": dict(self.flavor_extra_specs),
        }

    def set_flavor(self, snapshot: dict[str, Any]) -> None:
        """Make `snapshot` the current flavor."""
        self.flavor_id = snapshot["id"]
        self.flavor_name = snapshot["name"]
        self.vcpus = snapshot["vcpus"]
        self.ram = snapshot["ram"]
        self.disk = snapshot["disk"]
        self.ephemeral = snapshot.get("ephemeral", 0)
        self.swap = snapshot.get("swap", 0)
        self.flavor_extra_specs = dict(snapshot.get("extra_specs") or {})


class ServerTag(models.Model):
    """One tag of a server (Nova 2.26)."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(max_length=60)

    class Meta:
        ordering = ["server", "tag"]
        constraints = [models.UniqueConstraint(fields=["server", "tag"], name="uniq_tag_per_server")]
        indexes = [models.Index(fields=["tag"], name="server_tag_idx")]

    def __str__(self) -> str:
        return self.tag


class PendingVolumeAttachment(models.Model):
    """A volume chosen in the dashboard's create wizard, attached once its new server is first ACTIVE.

    Nova refuses attaching while a server builds, so the wizard records the choice here and
    `compute.volume.services.pending` attaches the volumes one job after another when the server's
    instance events show it ACTIVE (the row goes once its attach is queued or has failed for good).
    One row per volume: a volume waits for one server at most.
    """

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="pending_volumes")
    volume = models.OneToOneField("volume.Volume", on_delete=models.CASCADE, related_name="pending_attachment")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.volume_id} -> {self.server_id}"


class ServerGroup(models.Model):
    """A Nova server group: servers booted into it are placed by its policy (same node, or apart).

    The policy is one of affinity, anti-affinity, soft-affinity, soft-anti-affinity; what it means
    at placement is `compute.services.server_groups`' to say. Deleting the group forgets its
    memberships, never its servers.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="server_groups")
    user_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    policy = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.policy})"


class ServerGroupMember(models.Model):
    """A server's membership of a server group (a server is in at most one group, as in Nova)."""

    group = models.ForeignKey(ServerGroup, on_delete=models.CASCADE, related_name="memberships")
    server = models.OneToOneField(Server, on_delete=models.CASCADE, related_name="group_membership")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.server_id} in {self.group_id}"
