"""Object storage metadata: accounts, containers, objects and their versions.

Object data is not here: a version holds an ordered list of SHA-256 block hashes (its hashmap)
and the blocks live in the block store (`objectstore.blocks`), stored once however many
versions share them. Unreferenced blocks are found by `services.gc` from the hashmaps alone.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from identity.models import Project

DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024


class Account(models.Model):
    """A project's Swift account: only its metadata is stored (accounts exist implicitly)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="+")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"AUTH_{self.project_id}"


class Container(models.Model):
    """A named bucket of objects in a project, with its block size and policies."""

    class Versioning(models.TextChoices):
        NONE = "none", "Keep only the current version"
        AUTO = "auto", "Keep every version"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=256)
    block_size = models.PositiveIntegerField(default=DEFAULT_BLOCK_SIZE)
    versioning = models.CharField(max_length=8, choices=Versioning.choices, default=Versioning.NONE)
    quota_bytes = models.BigIntegerField(null=True, blank=True)
    quota_count = models.BigIntegerField(null=True, blank=True)
    read_acl = models.TextField(blank=True, default="")
    write_acl = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Swift's put timestamp: moved by container PUT and POST (not by object writes); Last-Modified.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="container_name_unique_per_project")]

    def __str__(self) -> str:
        return self.name


class Object(models.Model):
    """A name in a container; `current` is the version readers see (None once deleted)."""

    container = models.ForeignKey(Container, on_delete=models.CASCADE, related_name="contents")
    name = models.CharField(max_length=1024)
    current = models.OneToOneField(
        "ObjectVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="current_of"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["container", "name"], name="object_name_unique_per_container")]

    def __str__(self) -> str:
        return self.name


class ObjectVersionQuerySet(models.QuerySet):
    """Queries over versions."""

    def live(self, now=None) -> ObjectVersionQuerySet:
        """Versions that have not expired (X-Delete-At in the future or unset)."""
        now = now or timezone.now()
        return self.filter(Q(delete_at__isnull=True) | Q(delete_at__gt=now))


class ObjectVersion(models.Model):
    """One immutable content of an object: its block hashes, size, MD5 and metadata."""

    object = models.ForeignKey(Object, on_delete=models.CASCADE, related_name="versions")
    hashmap = models.JSONField(default=list)
    block_size = models.PositiveIntegerField(default=DEFAULT_BLOCK_SIZE)
    size = models.BigIntegerField(default=0)
    etag = models.CharField(max_length=32)
    content_type = models.CharField(max_length=256, default="application/octet-stream")
    modified_at = models.DateTimeField(default=timezone.now)
    modified_by = models.CharField(max_length=64, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    delete_at = models.DateTimeField(null=True, blank=True)
    # The ledger key of the write that made this version (lets the crash resolver settle it).
    upload_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Large-object manifests (Swift DLO/SLO): "" for plain content, "dlo" with `manifest` =
    # "container/prefix", or "slo" with `manifest` = the validated segment list.
    manifest_kind = models.CharField(max_length=3, blank=True, default="")
    manifest = models.JSONField(null=True, blank=True)

    objects = ObjectVersionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["delete_at"], name="objversion_delete_at")]

    def __str__(self) -> str:
        return f"{self.object_id}@{self.pk}"


# Pithos-style extensions: account groups, per-object sharing grants and public links.


class GroupMember(models.Model):
    """One user in one of an account's named groups (`X-Account-Group-<name>`)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=128)
    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "group", "user"], name="objectstore_group_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.group}:{self.user_id}"


class ObjectGrant(models.Model):
    """Read or write access to an object for a user, or for a group of the owner's account."""

    class Access(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"

    object = models.ForeignKey(Object, on_delete=models.CASCADE, related_name="grants")
    access = models.CharField(max_length=8, choices=Access.choices)
    user = models.ForeignKey("identity.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["user"], name="objectstore_grant_user")]

    def __str__(self) -> str:
        return f"{self.object_id}:{self.access}:{self.user_id or 'group:' + self.group}"


class PublicLink(models.Model):
    """A random token that serves an object's current version without authentication."""

    object = models.OneToOneField(Object, on_delete=models.CASCADE, related_name="public_link")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.token
