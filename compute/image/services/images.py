"""Image services: create, update (JSON-patch changes), delete, deactivate/reactivate, tags.

Each call is one transaction that locks the image row it changes and writes an audit event.
Deleting an image also deletes its data object from the owner's object store (giving its bytes
back to the quota), unless the owner has since replaced that object with other content.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from compute.image import limits
from compute.image.models import Image, ImageProperty, ImageTag
from compute.image.services import access
from compute.image.services.attributes import (
    CORE,
    Change,
    Draft,
    apply_change,
    check_name,
    check_tag,
    clean_core,
    clean_property,
    clean_tags,
    save_draft,
)
from compute.image.states import Action, next_status
from identity.tokens import TokenContext
from objectstore.services import for_images
from portal import audit
from portal.errors import Conflict, Forbidden, NotFound, QuotaExceeded, ValidationFailed

CREATE_READ_ONLY = limits.READ_ONLY - {"id"}


def _split(ctx: TokenContext, attrs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str | None], list[str]]:
    """Core fields, free-form properties and tags of a create request, each checked."""
    core: dict[str, Any] = {}
    properties: dict[str, str | None] = {}
    for name, value in attrs.items():
        if name in ("id", "tags"):
            continue
        if name in CREATE_READ_ONLY:
            raise Forbidden(f"Attribute '{name}' is read-only.")
        if name in CORE:
            core[name] = clean_core(ctx, name, value)
        else:
            check_name(name)
            properties[name] = clean_property(name, value)
    if len(properties) > limits.MAX_PROPERTIES:
        raise QuotaExceeded(f"Maximum number of image properties exceeded: limit {limits.MAX_PROPERTIES}.")
    return core, properties, clean_tags(attrs.get("tags", []))


def _new_id(attrs: dict[str, Any]) -> str:
    if "id" not in attrs:
        return str(uuid.uuid4())
    image_id = access.normalise_id(attrs["id"])
    if image_id is None:
        raise ValidationFailed("Provided object does not match schema 'image': 'id' is not a valid UUID.")
    return image_id


def create_image(ctx: TokenContext, attrs: dict[str, Any], *, actor: Any) -> Image:
    """Register a new image (status `queued`, no data) owned by the token's project (or `owner`)."""
    project_id = access.require_project(ctx)
    access.check_writer(ctx)
    image_id = _new_id(attrs)
    core, properties, tags = _split(ctx, attrs)
    owner = core.pop("owner", None) or project_id
    try:
        with transaction.atomic():
            image = Image.objects.create(id=image_id, project_id=owner, **core)
            ImageProperty.objects.bulk_create(
                [ImageProperty(image=image, name=k, value=v) for k, v in properties.items()]
            )
            ImageTag.objects.bulk_create([ImageTag(image=image, value=t) for t in tags])
            audit.record(actor, "image.create", image, detail={"visibility": image.visibility})
    except IntegrityError as exc:
        raise Conflict(f"Image with identifier {image_id} already exists!") from exc
    return image


@transaction.atomic
def update_image(ctx: TokenContext, image_id: str, changes: list[Change], *, actor: Any) -> Image:
    """Apply JSON-patch changes to an image's attributes, properties and tags, all or none."""
    image = access.writable(ctx, image_id)
    draft = Draft(
        properties={p.name: p.value for p in ImageProperty.objects.filter(image=image)},
        tags=list(ImageTag.objects.filter(image=image).order_by("pk").values_list("value", flat=True)),
    )
    for change in changes:
        apply_change(ctx, image, draft, change)
    if changes:
        image.updated_at = timezone.now()
        image.save()
        save_draft(image, draft)
        audit.record(actor, "image.update", image, detail={"changes": [f"{c.op} /{c.name}" for c in changes][:50]})
    return image


@transaction.atomic
def delete_image(ctx: TokenContext, image_id: str, *, actor: Any) -> None:
    """Delete an image that is not protected, and its data object."""
    image = access.writable(ctx, image_id)
    if image.protected:
        raise Forbidden(f"Image {image.id} is protected and cannot be deleted.")
    if image.data_object:
        for_images.delete_object(
            image.project, image.data_container, image.data_object, actor=actor, etag=image.checksum
        )
    audit.record(actor, "image.delete", image)
    image.delete()


def _move(ctx: TokenContext, image_id: str, action: Action, *, actor: Any) -> Image:
    with transaction.atomic():
        image = access.writable(ctx, image_id)
        target = next_status(image.status, action)
        if image.status != target:
            image.status = target
            image.updated_at = timezone.now()
            image.save(update_fields=["status", "updated_at"])
            audit.record(actor, f"image.{action.value}", image)
    return image


def deactivate_image(ctx: TokenContext, image_id: str, *, actor: Any) -> Image:
    """Make an active image's data unavailable to non-admins (a no-op when already deactivated)."""
    return _move(ctx, image_id, Action.DEACTIVATE, actor=actor)


def reactivate_image(ctx: TokenContext, image_id: str, *, actor: Any) -> Image:
    """Make a deactivated image usable again (a no-op when already active)."""
    return _move(ctx, image_id, Action.REACTIVATE, actor=actor)


@transaction.atomic
def add_tag(ctx: TokenContext, image_id: str, tag: str, *, actor: Any) -> None:
    """Tag an image (idempotent)."""
    image = access.writable(ctx, image_id)
    check_tag(tag)
    if ImageTag.objects.filter(image=image, value=tag).exists():
        return
    if ImageTag.objects.filter(image=image).count() >= limits.MAX_TAGS:
        raise QuotaExceeded(f"Maximum number of tags exceeded: limit {limits.MAX_TAGS}.")
    ImageTag.objects.create(image=image, value=tag)
    image.updated_at = timezone.now()
    image.save(update_fields=["updated_at"])
    audit.record(actor, "image.tag.add", image, detail={"tag": tag})


@transaction.atomic
def remove_tag(ctx: TokenContext, image_id: str, tag: str, *, actor: Any) -> None:
    """Remove a tag (NotFound when the image does not have it)."""
    image = access.writable(ctx, image_id)
    deleted, _ = ImageTag.objects.filter(image=image, value=tag).delete()
    if not deleted:
        raise NotFound(f"Tag {tag} not found.")
    image.updated_at = timezone.now()
    image.save(update_fields=["updated_at"])
    audit.record(actor, "image.tag.remove", image, detail={"tag": tag})
