"""Image members: offering a shared image to other projects, and their answers.

Glance's rules: only `shared` images have members (403 otherwise); the owner (or a cloud admin)
adds and removes members; only the member project itself (or a cloud admin) sets its status
(accepted, rejected, pending); the owner sees every member, a member sees only its own entry.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from compute.image import limits
from compute.image.models import Image, ImageMember, MemberStatus, Visibility
from compute.image.services import access
from identity.models import Project
from identity.tokens import TokenContext
from portal import audit
from portal.errors import Conflict, Forbidden, NotFound, QuotaExceeded, ValidationFailed


def _shared(image: Image) -> None:
    if image.visibility != Visibility.SHARED:
        raise Forbidden("Only shared images have members.")


def _member_not_found(image: Image, member_id: str) -> NotFound:
    return NotFound(f"{member_id} not found in the member list of the image {image.id}.")


def list_members(ctx: TokenContext, image_id: str) -> list[ImageMember]:
    """The members the token may see: all of them for the owner or an admin, else its own entry."""
    image = access.visible(ctx, image_id)
    _shared(image)
    rows = ImageMember.objects.filter(image=image).order_by("created_at", "pk")
    if not (ctx.is_admin or access.is_owner(ctx, image)):
        rows = rows.filter(member_id=ctx.project_id)
    return list(rows)


def get_member(ctx: TokenContext, image_id: str, member_id: str) -> ImageMember:
    """One membership, for the owner, the member itself or an admin (404 for anyone else)."""
    image = access.visible(ctx, image_id)
    _shared(image)
    allowed = ctx.is_admin or access.is_owner(ctx, image) or member_id == ctx.project_id
    member = ImageMember.objects.filter(image=image, member_id=member_id).first() if allowed else None
    if member is None:
        raise _member_not_found(image, member_id)
    return member


def add_member(ctx: TokenContext, image_id: str, member_id: Any, *, actor: Any) -> ImageMember:
    """Offer a shared image to a project (status `pending`)."""
    if not isinstance(member_id, str) or not member_id or len(member_id) > 255:
        raise ValidationFailed("Member to be added not specified")
    try:
        with transaction.atomic():
            image = access.visible(ctx, image_id, Image.objects.select_for_update())
            _shared(image)
            access.check_can_modify(ctx, image)
            if not Project.objects.filter(pk=member_id).exists():
                raise ValidationFailed(f"Invalid member: no project {member_id}.")
            if ImageMember.objects.filter(image=image).count() >= limits.MAX_MEMBERS:
                raise QuotaExceeded(f"Image member limit exceeded for image {image.id}.")
            member = ImageMember.objects.create(image=image, member_id=member_id)
            audit.record(actor, "image.member.create", image, detail={"member": member_id})
    except IntegrityError as exc:
        raise Conflict(f"Member {member_id} is duplicated for image {image_id}") from exc
    return member


@transaction.atomic
def update_member_status(ctx: TokenContext, image_id: str, member_id: str, status: Any, *, actor: Any) -> ImageMember:
    """The member project answers: accepted, rejected or pending again."""
    image = access.visible(ctx, image_id)
    _shared(image)
    access.check_writer(ctx)
    if status not in MemberStatus.values:
        raise ValidationFailed('Incorrect request: Status must be "pending", "accepted" or "rejected".')
    member = ImageMember.objects.select_for_update().filter(image=image, member_id=member_id).first()
    visible_member = member is not None and (ctx.is_admin or access.is_owner(ctx, image) or member_id == ctx.project_id)
    if not visible_member:
        raise _member_not_found(image, member_id)
    if member_id != ctx.project_id and not ctx.is_admin:
        raise Forbidden(f"Not allowed to update members for image {image.id}.")
    member.status = status
    member.updated_at = timezone.now()
    member.save(update_fields=["status", "updated_at"])
    audit.record(actor, "image.member.update", image, detail={"member": member_id, "status": status})
    return member


@transaction.atomic
def remove_member(ctx: TokenContext, image_id: str, member_id: str, *, actor: Any) -> None:
    """The owner (or an admin) withdraws the offer."""
    image = access.visible(ctx, image_id)
    _shared(image)
    member = ImageMember.objects.filter(image=image, member_id=member_id).first()
    if member is None or not (ctx.is_admin or access.is_owner(ctx, image) or member_id == ctx.project_id):
        raise _member_not_found(image, member_id)
    access.check_can_modify(ctx, image)
    member.delete()
    audit.record(actor, "image.member.delete", image, detail={"member": member_id})
