"""Cinder's volume views: list, detail, create, show, update, delete, metadata and actions.

Views are thin: parse and check the request, call `compute.volume.services`, render. Every query
starts from the URL project's volumes (a foreign or malformed id is Cinder's 404).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q
from rest_framework.request import Request
from rest_framework.response import Response

from compute.image.services.access import visible as visible_image
from compute.volume.api import filters, render
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


# Cinder's sort keys Nefos can order by (API name -> field); `sort_key`/`sort_dir` or
# `sort=key[:dir],...`; the default is Cinder's: newest first.
SORT_FIELDS = {
    "id": "id",
    "name": "name",
    "display_name": "name",
    "status": "status",
    "size": "size",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "availability_zone": "availability_zone",
    "bootable": "bootable",
}
DEFAULT_SORT = [("created_at", "desc"), ("id", "desc")]


def _sort(params: Any) -> list[tuple[str, str]]:
    """The requested order as (field, "asc"|"desc") pairs, ending with id (Cinder's 400 for bad keys)."""
    if params.get("sort"):
        pairs = [(part.partition(":")[0].strip(), part.partition(":")[2].strip()) for part in params["sort"].split(",")]
    elif params.get("sort_key") or params.get("sort_dir"):
        keys = (params.get("sort_key") or "created_at").split(",")
        dirs = (params.get("sort_dir") or "").split(",")
        pairs = [(key.strip(), (dirs[i] if i < len(dirs) else dirs[-1]).strip()) for i, key in enumerate(keys)]
    else:
        return list(DEFAULT_SORT)
    order: list[tuple[str, str]] = []
    for key, direction in pairs:
        if key not in SORT_FIELDS:
            raise ValidationFailed(f"Invalid input received: Invalid sort key {key}.")
        direction = direction.lower() or "desc"
        if direction not in ("asc", "desc"):
            raise ValidationFailed(f"Invalid input received: Invalid sort dirs passed: {direction}.")
        order.append((SORT_FIELDS[key], direction))
    if all(field != "id" for field, _ in order):
        order.append(("id", order[-1][1]))
    return order


def _after(anchor: Volume, order: list[tuple[str, str]]) -> Q:
    """The rows after `anchor` in `order` (keyset paging: the marker itself is not repeated)."""
    after = Q(pk__in=[])
    for i, (field, direction) in enumerate(order):
        step = Q(**{f"{field}__{'gt' if direction == 'asc' else 'lt'}": getattr(anchor, field)})
        for prior, _ in order[:i]:
            step &= Q(**{prior: getattr(anchor, prior)})
        after |= step
    return after


def _page(view: CinderView, request: Request) -> tuple[list[Volume], bool]:
    """One page of the URL project's volumes, and whether a next link is due.

    As Cinder, a full page gets a next link (so the last page may be empty).
    """
    rows = Volume.objects.for_project(view.project.pk).select_related("volume_type", "cluster")
    params = request.query_params
    for key in ("name", "status"):
        if params.get(key):
            rows = rows.filter(**{key: params[key]})
    rows = filters.apply(rows, params)
    order = _sort(params)
    marker = params.get("marker")
    if marker:
        rows = rows.filter(_after(get_volume(view, marker), order))
    raw = params.get("limit")
    limit = MAX_LIMIT
    if raw is not None:
        if not raw.isdigit():
            raise ValidationFailed(f"Invalid input received: limit={raw} must be a non-negative integer.")
        limit = min(int(raw), MAX_LIMIT) or MAX_LIMIT
    items = list(rows.order_by(*[f"{'-' if d == 'desc' else ''}{f}" for f, d in order])[:limit])
    return items, raw is not None and len(items) == limit


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
    if item.get("snapshot_id") is not None:
        # There are no snapshots here, so every snapshot id is unknown: Cinder's 404.
        raise NotFound(f"Snapshot {item['snapshot_id']} could not be found.")
    if item.get("source_volid") is not None:
        get_volume(view, item["source_volid"])  # an unknown source is Cinder's 404; a known one cannot be cloned
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
