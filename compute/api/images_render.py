"""Nova's image proxy shapes: Glance images as Nova showed them (2.1-2.35), and its list filters.

`image_detail` is Nova's image view (nova/api/openstack/compute/views/images.py): Glance's status
becomes Nova's (queued/saving → SAVING, active → ACTIVE, killed → ERROR, deleted → DELETED,
anything else → UNKNOWN) with a progress (25/50/100, else 0), `metadata` is the image's
free-form properties, `server` links a snapshot's server (property `instance_uuid`), and the
links are self, bookmark and the Glance `alternate`. `list_query` turns Nova's filters into the
image service's `ListQuery` as Nova's Glance client did (`server` → property instance_uuid,
`type` → property image_type, `changes-since` → updated_at >= , minRam/minDisk → at least).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.request import Request

from compute.api.base import compute_root, iso, links
from compute.image import limits
from compute.image.models import Image
from compute.image.selectors import ListQuery
from compute.image.states import Status
from identity.api.keystone.render import base_url
from portal.errors import ValidationFailed

NOVA_STATUS = {
    Status.QUEUED: "SAVING",
    Status.SAVING: "SAVING",
    Status.ACTIVE: "ACTIVE",
    Status.KILLED: "ERROR",
    Status.DELETED: "DELETED",
    Status.PENDING_DELETE: "DELETED",
}
PROGRESS = {Status.QUEUED: 25, Status.SAVING: 50, Status.ACTIVE: 100}
TRUE = ("1", "t", "true", "on", "y", "yes")
# Nova's filter name -> the image property it reads.
PROPERTY_FILTERS = {"server": "instance_uuid", "type": "image_type"}
MINIMUM_FILTERS = {"minRam": "min_ram", "minDisk": "min_disk"}


def properties_of(image: Image) -> dict[str, Any]:
    """The image's free-form properties (Nova's image `metadata`)."""
    return {p.name: p.value for p in image.properties.all()}


def image_links(request: Request, image_id: str) -> list[dict[str, str]]:
    """Nova's self and bookmark links, and the image service's own address (`alternate`)."""
    alternate = {
        "rel": "alternate",
        "type": "application/vnd.openstack.image",
        "href": f"{base_url(request)}/image/images/{image_id}",
    }
    return [*links(request, "images", image_id), alternate]


def image_basic(request: Request, image: Image) -> dict[str, Any]:
    """An entry of `GET /images`: id, name and links."""
    return {"id": image.id, "name": image.name, "links": image_links(request, image.id)}


def image_detail(request: Request, image: Image) -> dict[str, Any]:
    """An image as `GET /images/{id}` and `GET /images/detail` show it."""
    metadata = properties_of(image)
    body: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "minRam": image.min_ram,
        "minDisk": image.min_disk,
        "metadata": metadata,
        "created": iso(image.created_at),
        "updated": iso(image.updated_at),
        "status": NOVA_STATUS.get(image.status, "UNKNOWN"),
        "progress": PROGRESS.get(image.status, 0),
        "OS-EXT-IMG-SIZE:size": image.size,
        "links": image_links(request, image.id),
    }
    server_id = metadata.get("instance_uuid")
    if server_id is not None:
        root = compute_root(request)
        body["server"] = {
            "id": server_id,
            "links": [
                {"rel": "self", "href": f"{root}/v2.1/servers/{server_id}"},
                {"rel": "bookmark", "href": f"{root}/servers/{server_id}"},
            ],
        }
    disk_config = metadata.get("auto_disk_config")
    if disk_config is not None:
        body["OS-DCF:diskConfig"] = "AUTO" if str(disk_config).lower() in TRUE else "MANUAL"
    return body


def _limit(params: QueryDict) -> int:
    """Nova's `limit`: a non-negative integer; none, 0 or more than Glance's maximum is the maximum."""
    raw = params.get("limit")
    if raw is None:
        return limits.LIST_MAX_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed("limit param must be an integer") from None
    if value < 0:
        raise ValidationFailed("limit param must be positive")
    return min(value, limits.LIST_MAX_LIMIT) or limits.LIST_MAX_LIMIT


def _minimum(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"Invalid {name} filter: an integer is required.") from None
    if not 0 <= value <= limits.MAX_INT:
        raise ValidationFailed(f"Invalid {name} filter: {value} is out of range.")
    return value


def _changes_since(raw: str) -> tuple[str, datetime]:
    try:
        moment = parse_datetime(raw.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationFailed(f"Invalid changes-since value: {raw}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return "gte", moment


def list_query(params: QueryDict) -> ListQuery:
    """The image service's ListQuery for Nova's filters and paging (bad values are 400s)."""
    filters: dict[str, Any] = {}
    properties: dict[str, str] = {}
    minimums: dict[str, int] = {}
    times: dict[str, tuple[str, datetime]] = {}
    if "name" in params:
        filters["name"] = params["name"]
    if "status" in params:
        status = params["status"].lower()
        if status not in Status.values:
            raise ValidationFailed(f"Invalid status value: {params['status']}")
        filters["status"] = status
    if "changes-since" in params:
        times["updated_at"] = _changes_since(params["changes-since"])
    for nova_name, prop in PROPERTY_FILTERS.items():
        if nova_name in params:
            value = params[nova_name]
            # `server` may be a server's link: its last segment is the id (Nova's rule).
            properties[prop] = value.rsplit("/", 1)[-1] if nova_name == "server" else value
    for nova_name, column in MINIMUM_FILTERS.items():
        if nova_name in params:
            minimums[column] = _minimum(nova_name, params[nova_name])
    for name in params:
        if name.startswith("property-") and len(name) > len("property-"):
            properties[name[len("property-") :]] = params[name]
    return ListQuery(
        filters=filters,
        times=times,
        properties=properties,
        minimums=minimums,
        limit=_limit(params),
        marker=params.get("marker") or None,
    )
