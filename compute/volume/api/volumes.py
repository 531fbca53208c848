"""Cinder's volume views: list, detail, create, show, update, delete, metadata and actions.

Views are thin: parse and check the request, call `compute.volume.services`, render. Every query
starts from the URL project's volumes (a foreign or malformed id is Cinder's 404).
"""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.image.services.access import visible as visible_image
from compute.volume.api import render
from compute.volume.api.base import CinderView, body_of, entity, metadata_of, text
from compute.volume.models import Volume
from compute.volume.services import types, volumes
from compute.volume.services.volumes import VolumeSpec
from portal.errors import NotFound, ValidationFailed

MAX_LIMIT = 1000
# Ways to create a volume Nefos does not have (no snapshots, no clones, no backups).
UNSUPPORTED_SOURCES = {
    "snapshot_id": "Volume snapshots are not supported by the clusters of this cloud (docs/volume.md).",
    "source_volid": "Cloning a volume is not supported by this cloud.",
    "backup_id": "Volume backups are not supported by this cloud.",
    "consistencygroup_id": "Consistency groups are not supported by this cloud.",
    "group_id": "Volume groups are not supported by this cloud.",
}
CREATE_KEYS = {
    "size",
    "name",
    "display_name",
    "description",
    "display_description",
    "volume_type",
    "metadata",
    "imageRef",
    "image_id",
    "availability_zone",
    "multiattach",
    "scheduler_hints",
    *UNSUPPORTED_SOURCES,
}


def get_volume(view: CinderView, volume_id: str) -> Volume:
    """The URL project's volume `volume_id`, else Cinder's 404."""
    try:
        key = uuid.UUID(str(volume_id))
    except ValueError:
        raise NotFound(f"Volume {volume_id} could not be found.") from None
    found = Volume.objects.for_project(view.project.pk).select_related("volume_type", "cluster").filter(pk=key).first()
    if found is None:
        raise NotFound(f"Volume {volume_id} could not be found.")
    return found


def _page(view: CinderView, request: Request) -> tuple[list[Volume], bool]:
    rows = Volume.objects.for_project(view.project.pk).select_related("volume_type", "cluster")
    params = request.query_params
    for key in ("name", "status"):
        if params.get(key):
            rows = rows.filter(**{key: params[key]})
    marker = params.get("marker")
    if marker:
        anchor = get_volume(view, marker)
        rows = rows.filter(created_at__lte=anchor.created_at).exclude(pk=anchor.pk)
        rows = rows.exclude(created_at=anchor.created_at, id__lt=anchor.pk)
    raw = params.get("limit")
    limit = MAX_LIMIT
    if raw is not None:
        if not raw.isdigit():
            raise ValidationFailed(f"Invalid input received: limit={raw} must be a non-negative integer.")
        limit = min(int(raw), MAX_LIMIT) or MAX_LIMIT
    items = list(rows.order_by("-created_at", "id")[: limit + 1])
    return items[:limit], len(items) > limit and raw is not None


def _listing(view: CinderView, request: Request, *, detail: bool) -> Response:
    items, more = _page(view, request)
    admin = view.ctx().is_admin
    body: dict[str, Any] = {
        "volumes": [
            render.volume_view(request, v, admin=admin) if detail else render.summary(request, v) for v in items
        ]
    }
    if more:
        params = request.query_params.copy()
        params["marker"] = str(items[-1].pk)
        path = "volumes/detail" if detail else "volumes"
        href = f"{render.volume_root(request)}/v3/{view.project.pk}/{path}?{params.urlencode()}"
        body["volumes_links"] = [{"rel": "next", "href": href}]
    return Response(body)


def _spec(view: CinderView, item: dict[str, Any]) -> VolumeSpec:
    unknown = sorted(set(item) - CREATE_KEYS)
    if unknown:
        raise ValidationFailed(f"Invalid input for field/attribute volume. Unexpected key(s): {', '.join(unknown)}.")
    for key, reason in UNSUPPORTED_SOURCES.items():
        if item.get(key) is not None:
            raise ValidationFailed(f"Invalid input received: {reason}")
    if item.get("multiattach"):
        raise ValidationFailed("Invalid input received: multiattach volumes are not supported by this cloud.")
    if "size" not in item or item["size"] is None:
        raise ValidationFailed("Invalid input received: size is required (a whole number of GiB).")
    size = volumes.check_size(item["size"])
    type_ref = item.get("volume_type")
    if type_ref is not None and not isinstance(type_ref, str):
        raise ValidationFailed("Invalid input for field/attribute volume_type. It is not a string.")
    vtype = types.find_type(type_ref) if type_ref else types.default_type()
    image = None
    image_ref = item.get("imageRef") or item.get("image_id")
    if image_ref is not None:
        if not isinstance(image_ref, str):
            raise ValidationFailed("Invalid input received: imageRef must be an image id.")
        try:
            image = visible_image(view.ctx(), image_ref)
        except NotFound:
            raise ValidationFailed(
                f"Invalid image identifier or unable to access requested image {image_ref}."
            ) from None
        if image.status != "active":
            raise ValidationFailed(f"Image {image_ref} is not active.")
    zone = text(item, "availability_zone") or "nova"
    if zone != "nova":
        raise ValidationFailed(f"Invalid input received: Availability zone '{zone}' is invalid.")
    return VolumeSpec(
        size=size,
        volume_type=vtype,
        name=text(item, "name") or text(item, "display_name") or "",
        description=text(item, "description") or text(item, "display_description") or "",
        metadata=metadata_of(item.get("metadata") or {}),
        image=image,
        availability_zone=zone,
    )


class VolumesView(CinderView):
    """`GET/POST /volume/v3/{project_id}/volumes`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The project's volumes (id, name, links)."""
        return _listing(self, request, detail=False)

    def post(self, request: Request, project_id: str) -> Response:
        """Create a volume (available at once)."""
        spec = _spec(self, entity(request, "volume"))
        volume = volumes.create_volume(self.project, spec, actor=self.actor)
        return Response({"volume": render.volume_view(request, volume, extended=False)}, status=202)


class VolumesDetailView(CinderView):
    """`GET /volume/v3/{project_id}/volumes/detail`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The project's volumes, in full."""
        return _listing(self, request, detail=True)


class VolumeView(CinderView):
    """`GET/PUT/DELETE /volume/v3/{project_id}/volumes/{volume_id}`."""

    def get(self, request: Request, project_id: str, volume_id: str) -> Response:
        """One volume."""
        volume = get_volume(self, volume_id)
        return Response({"volume": render.volume_view(request, volume, admin=self.ctx().is_admin)})

    def put(self, request: Request, project_id: str, volume_id: str) -> Response:
        """Change name, description or metadata."""
        volume = get_volume(self, volume_id)
        item = entity(request, "volume")
        allowed = {"name", "display_name", "description", "display_description", "metadata"}
        unknown = sorted(set(item) - allowed)
        if unknown or not item:
            raise ValidationFailed(
                f"Invalid input for field/attribute volume. Unexpected key(s): {', '.join(unknown)}."
                if unknown
                else "Invalid input for field/attribute volume. Nothing to update."
            )
        name = text(item, "name") if "name" in item else text(item, "display_name")
        description = text(item, "description") if "description" in item else text(item, "display_description")
        volume = volumes.update_volume(volume, name=name, description=description, actor=self.actor)
        if "metadata" in item:
            volume = volumes.set_metadata(volume, metadata_of(item["metadata"]), replace=True, actor=self.actor)
        return Response({"volume": render.volume_view(request, volume, extended=False)})

    def delete(self, request: Request, project_id: str, volume_id: str) -> Response:
        """Delete the volume (at once, or through its cluster when its disk lives there)."""
        volumes.delete_volume(get_volume(self, volume_id), actor=self.actor)
        return Response(status=202)


class MetadataView(CinderView):
    """`GET/POST/PUT /volume/v3/{project_id}/volumes/{volume_id}/metadata`."""

    def get(self, request: Request, project_id: str, volume_id: str) -> Response:
        """The volume's metadata."""
        return Response({"metadata": dict(get_volume(self, volume_id).metadata)})

    def post(self, request: Request, project_id: str, volume_id: str) -> Response:
        """Merge keys into the metadata."""
        volume = get_volume(self, volume_id)
        values = metadata_of(body_of(request).get("metadata"))
        volume = volumes.set_metadata(volume, values, replace=False, actor=self.actor)
        return Response({"metadata": dict(volume.metadata)})

    def put(self, request: Request, project_id: str, volume_id: str) -> Response:
        """Replace the metadata."""
        volume = get_volume(self, volume_id)
        values = metadata_of(body_of(request).get("metadata"))
        volume = volumes.set_metadata(volume, values, replace=True, actor=self.actor)
        return Response({"metadata": dict(volume.metadata)})


class MetadataItemView(CinderView):
    """`GET/PUT/DELETE /volume/v3/{project_id}/volumes/{volume_id}/metadata/{key}`."""

    def get(self, request: Request, project_id: str, volume_id: str, key: str) -> Response:
        """One metadata item."""
        metadata = get_volume(self, volume_id).metadata
        if key not in metadata:
            raise NotFound(f"Metadata item was not found (key {key}).")
        return Response({"meta": {key: metadata[key]}})

    def put(self, request: Request, project_id: str, volume_id: str, key: str) -> Response:
        """Set one item (the body names exactly that key)."""
        volume = get_volume(self, volume_id)
        meta = metadata_of(body_of(request).get("meta"), "meta")
        if list(meta) != [key]:
            raise ValidationFailed("Request body and URI mismatch")
        volume = volumes.set_metadata(volume, meta, replace=False, actor=self.actor)
        return Response({"meta": {key: volume.metadata[key]}})

    def delete(self, request: Request, project_id: str, volume_id: str, key: str) -> Response:
        """Remove one item."""
        volumes.delete_metadata_key(get_volume(self, volume_id), key, actor=self.actor)
        return Response(status=200)


class ActionView(CinderView):
    """`POST /volume/v3/{project_id}/volumes/{volume_id}/action`: os-extend and friends."""

    def post(self, request: Request, project_id: str, volume_id: str) -> Response:
        """Run one action."""
        volume = get_volume(self, volume_id)
        data = body_of(request)
        if len(data) != 1:
            raise ValidationFailed("Invalid request body: exactly one action is required.")
        name, args = next(iter(data.items()))
        if name == "os-extend":
            if not isinstance(args, dict) or "new_size" not in args:
                raise ValidationFailed("Invalid input for field/attribute os-extend. 'new_size' is a required property")
            volumes.extend_volume(volume, args["new_size"], actor=self.actor)
            return Response(status=202)
        if name in (
            "os-attach",
            "os-detach",
            "os-reserve",
            "os-unreserve",
            "os-begin_detaching",
            "os-roll_detaching",
            "os-initialize_connection",
            "os-terminate_connection",
        ):
            raise ValidationFailed(
                f"Invalid input received: {name} is not offered: attach and detach volumes through the server "
                "(Nova's os-volume_attachments, `openstack server add volume`)."
            )
        raise ValidationFailed(f"Invalid input received: There is no such action: {name}")
