"""Glance v2 response bodies: images, members, and their timestamps and links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from compute.image.models import Image, ImageMember


def isotime(moment: datetime) -> str:
    """Glance's timestamp form: `2026-11-27T10:00:00Z` (UTC, seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_href(image_id: str, sub: str = "") -> str:
    """The image's path as Glance writes it in bodies (relative to the endpoint's root)."""
    return f"/v2/images/{image_id}" + (f"/{sub}" if sub else "")


def image_view(image: Image) -> dict[str, Any]:
    """The image as Glance shows it: free-form properties as top-level keys, then the core fields.

    Expects `properties` and `tags` prefetched (or fetches them: two queries).
    """
    view: dict[str, Any] = {p.name: p.value for p in image.properties.all()}
    view.update(
        name=image.name,
        disk_format=image.disk_format,
        container_format=image.container_format,
        visibility=image.visibility,
        size=image.size,
        virtual_size=image.virtual_size,
        status=image.status,
        checksum=image.checksum,
        protected=image.protected,
        min_ram=image.min_ram,
        min_disk=image.min_disk,
        owner=image.project_id,
        os_hidden=image.os_hidden,
        os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value,
        id=image.id,
        created_at=isotime(image.created_at),
        updated_at=isotime(image.updated_at),
        tags=[t.value for t in sorted(image.tags.all(), key=lambda t: t.pk)],
        self=image_href(image.id),
        file=image_href(image.id, "file"),
        schema="/v2/schemas/image",
    )
    return view


def member_view(member: ImageMember) -> dict[str, Any]:
    """An image membership."""
    return {
        "member_id": member.member_id,
        "image_id": member.image_id,
        "status": member.status,
        "created_at": isotime(member.created_at),
        "updated_at": isotime(member.updated_at),
        "schema": "/v2/schemas/member",
    }
