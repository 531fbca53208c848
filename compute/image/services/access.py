"""Who may see and who may change an image: one place for Glance's default policy.

- Seeing: the owner project, members of a shared image, everyone for public and community
  images, a cloud admin for all. An image the caller may not see is a 404, as if it did not exist.
- Changing (metadata, data, tags, members, delete): the owner project with a writing role
  (member or admin), or a cloud admin; a reader-only token, or another project that can see the
  image, gets 403.
- Publicizing (visibility `public`) is for cloud admins only (Glance's `publicize_image`).
"""

from __future__ import annotations

import re

from compute.image.models import Image, ImageQuerySet
from identity.tokens import TokenContext
from portal.errors import Forbidden, NotFound

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def normalise_id(image_id: str) -> str | None:
    """The canonical (lower-case) form of an image id, or None when it is not a UUID."""
    return image_id.lower() if isinstance(image_id, str) and _UUID.match(image_id) else None


def require_project(ctx: TokenContext) -> str:
    """The token's project; Glance needs a project-scoped token."""
    if not ctx.project_id:
        raise Forbidden("A project-scoped token is required.")
    return ctx.project_id


def not_found(image_id: str) -> NotFound:
    """Glance's 404 for an image."""
    return NotFound(f"No image found with ID {image_id}")


def visible(ctx: TokenContext, image_id: str, queryset: ImageQuerySet | None = None) -> Image:
    """The image if the token may see it (NotFound otherwise, also for malformed ids)."""
    require_project(ctx)
    key = normalise_id(image_id)
    base = queryset if queryset is not None else Image.objects.all()
    image = base.visible_to(ctx).filter(pk=key).first() if key else None
    if image is None:
        raise not_found(image_id)
    return image


def is_owner(ctx: TokenContext, image: Image) -> bool:
    """Whether the token's project owns the image."""
    return image.project_id == ctx.project_id


def check_writer(ctx: TokenContext) -> None:
    """Refuse tokens that may only read."""
    if ctx.is_reader_only or not ({"member", "admin"} & set(ctx.roles)):
        raise Forbidden("You are not authorized to complete this action.")


def check_can_modify(ctx: TokenContext, image: Image) -> None:
    """Only the owner project (writing) or a cloud admin may change an image."""
    check_writer(ctx)
    if not (ctx.is_admin or is_owner(ctx, image)):
        raise Forbidden("You are not permitted to modify this image.")


def writable(ctx: TokenContext, image_id: str) -> Image:
    """The image, locked for update, if the token may change it (NotFound if invisible, else Forbidden).

    Call inside a transaction.
    """
    image = visible(ctx, image_id, Image.objects.select_for_update())
    check_can_modify(ctx, image)
    return image


def check_visibility_change(ctx: TokenContext, visibility: str) -> None:
    """Making an image public is a cloud admin's decision."""
    if visibility == "public" and not ctx.is_admin:
        raise Forbidden("You are not authorized to complete publicize_image action.")
