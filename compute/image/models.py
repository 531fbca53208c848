"""Image records: core attributes, free-form properties, tags and members (Glance v2's data model).

The bytes are not here: an active image names the object (`data_container`/`data_object`) in its
owner's object store that holds them, and remembers their MD5 (`checksum`, also the object's
ETag) and SHA-512 (`os_hash_value`) so a replaced or deleted object is never served as the image.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from compute.image.states import Status
from identity.models import Project
from identity.tokens import TokenContext


class Visibility(models.TextChoices):
    """Who sees an image: its owner only, members too, everyone (listed), everyone (unlisted)."""

    PRIVATE = "private"
    SHARED = "shared"
    PUBLIC = "public"
    COMMUNITY = "community"


class MemberStatus(models.TextChoices):
    """A member project's answer to an image shared with it."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ImageQuerySet(models.QuerySet):
    """Queries over images, always starting from what a token may see."""

    def visible_to(self, ctx: TokenContext) -> ImageQuerySet:
        """Images the token's project may see: its own, public and community ones, shared with it.

        A cloud admin sees every image. A member of a shared image sees it whatever its answer
        (pending, accepted, rejected); listings narrow that further by `member_status`.
        """
        if ctx.is_admin:
            return self.all()
        return self.filter(
            Q(project_id=ctx.project_id)
            | Q(visibility__in=(Visibility.PUBLIC, Visibility.COMMUNITY))
            | (Q(visibility=Visibility.SHARED) & Exists(membership(ctx.project_id)))
        )

    def with_details(self) -> ImageQuerySet:
        """Prefetch what rendering an image needs (properties and tags) in two extra queries."""
        return self.prefetch_related("properties", "tags")


def membership(project_id: str | None, statuses: tuple[str, ...] | None = None) -> models.QuerySet:
    """A correlated subquery: the membership of `project_id` in the outer image (optionally by status)."""
    rows = ImageMember.objects.filter(image=OuterRef("pk"), member_id=project_id)
    if statuses is not None:
        rows = rows.filter(status__in=statuses)
    return rows


class Image(models.Model):
    """One Glance image: what it is, who owns it, who may see it, and where its bytes are."""

    id = models.CharField(primary_key=True, max_length=36)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.SHARED)
    protected = models.BooleanField(default=False)
    os_hidden = models.BooleanField(default=False)
    disk_format = models.CharField(max_length=32, null=True, blank=True)
    container_format = models.CharField(max_length=32, null=True, blank=True)
    min_disk = models.PositiveIntegerField(default=0)
    min_ram = models.PositiveIntegerField(default=0)
    size = models.BigIntegerField(null=True, blank=True)
    virtual_size = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=32, null=True, blank=True)
    os_hash_algo = models.CharField(max_length=64, null=True, blank=True)
    os_hash_value = models.CharField(max_length=128, null=True, blank=True)
    # Where the bytes are: an object in the owner's object store (empty until the upload ends).
    data_container = models.CharField(max_length=256, blank=True, default="")
    data_object = models.CharField(max_length=1024, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ImageQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["project", "created_at"], name="image_project_created"),
            models.Index(fields=["visibility", "created_at"], name="image_visibility_created"),
            models.Index(fields=["name"], name="image_name"),
        ]

    def __str__(self) -> str:
        return self.name or self.id


class ImageProperty(models.Model):
    """A free-form string property of an image (Glance's extra properties)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="properties")
    name = models.CharField(max_length=255)
    value = models.TextField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "name"], name="image_property_unique")]
        indexes = [models.Index(fields=["name", "image"], name="image_property_name")]

    def __str__(self) -> str:
        return f"{self.name}={self.value[:40]}"


class ImageTag(models.Model):
    """A tag on an image."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="tags")
    value = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "value"], name="image_tag_unique")]
        indexes = [models.Index(fields=["value"], name="image_tag_value")]

    def __str__(self) -> str:
        return self.value


class ImageMember(models.Model):
    """A project a shared image is offered to, and its answer."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "member"], name="image_member_unique")]
        indexes = [models.Index(fields=["member", "status"], name="image_member_project")]

    def __str__(self) -> str:
        return f"{self.image_id}:{self.member_id}"
