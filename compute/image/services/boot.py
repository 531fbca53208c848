"""What the compute service (Nova) needs from an image to build a server: `BootImage`.

How an image reaches a VM's disk is the cluster's business: backend_ganeti passes `os` and
`os_params` to the cluster (Ganeti's OS definition and its parameters; the embedded libvirt host
records them). They come from, in order:

1. the image's properties `nefos:os` (OS definition name) and `nefos:os_params` (a JSON object
   of string values);
2. else the site settings IMAGE_DEPLOY_OS and IMAGE_DEPLOY_OS_PARAMS (e.g. an image-deploying
   OS definition that fetches the image by URL, Synnefo's snf-image pattern);
3. else an empty OS name: the backend's default OS definition.

Parameter values may hold `${...}` placeholders, filled from the image: `image_id`, `image_name`,
`image_url` (its Glance file URL), `image_object` (`AUTH_<owner>/images/<id>`), `image_size`,
`disk_format`, `container_format`, `checksum`, `os_hash_algo`, `os_hash_value`, `owner`, and any
property whose name is an identifier (e.g. `${os_distro}`). See docs/image.md.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from compute.image.models import Image
from compute.image.services import access, data
from compute.image.states import Status
from identity.services.catalog import public_url
from identity.tokens import TokenContext
from portal.errors import NotFound


@dataclass(frozen=True)
class BootImage:
    """An active image a server may boot from, and how the cluster deploys it."""

    id: str
    name: str
    size: int
    min_disk: int
    min_ram: int
    disk_format: str
    container_format: str
    os: str
    os_params: dict


def _ref_id(ref: str) -> str:
    """An image id from an id or an href ending in `/images/<id>` (Nova's imageRef forms)."""
    return ref.rstrip("/").rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def find_image(*, ctx: TokenContext, ref: str) -> Image:
    """The image `ref` (an id or an image href) names, if the token may see it (NotFound otherwise)."""
    return access.visible(ctx, _ref_id(ref), Image.objects.with_details())


def _placeholders(image: Image, properties: dict[str, str | None]) -> dict[str, str]:
    base = public_url("")
    values = {k: v for k, v in properties.items() if v is not None and k.isidentifier()}
    values.update(
        image_id=image.id,
        image_name=image.name or "",
        image_url=f"{base}/image/v2/images/{image.id}/file",
        image_object=f"AUTH_{image.project_id}/{image.data_container}/{image.data_object}",
        image_size=str(image.size or 0),
        disk_format=image.disk_format or "",
        container_format=image.container_format or "",
        checksum=image.checksum or "",
        os_hash_algo=image.os_hash_algo or "",
        os_hash_value=image.os_hash_value or "",
        owner=image.project_id,
    )
    return values


def _template(properties: dict[str, str | None]) -> tuple[str, dict[str, Any]]:
    """The OS name and the (unfilled) parameter template for an image."""
    raw = properties.get("nefos:os_params")
    params: Any = getattr(settings, "IMAGE_DEPLOY_OS_PARAMS", {}) or {}
    if raw:
        try:
            params = json.loads(raw)
        except ValueError:
            params = {}
    if not isinstance(params, dict):
        params = {}
    os_name = properties.get("nefos:os") or getattr(settings, "IMAGE_DEPLOY_OS", "") or ""
    return os_name, params


def deploy_params(image: Image, properties: dict[str, str | None]) -> tuple[str, dict[str, str]]:
    """The OS definition and its filled-in parameters for booting `image`."""
    os_name, template = _template(properties)
    values = _placeholders(image, properties)
    params = {str(k): string.Template(str(v)).safe_substitute(values) for k, v in template.items()}
    return os_name, params


def image_for_boot(*, ctx: TokenContext, image_id: str) -> BootImage:
    """The image as Nova boots it: visible to the token, active, with its data intact (NotFound otherwise)."""
    image = access.visible(ctx, image_id, Image.objects.with_details())
    if image.status != Status.ACTIVE or not data.has_data(image):
        raise NotFound(f"Image {image_id} is not active.")
    properties = {p.name: p.value for p in image.properties.all()}
    os_name, params = deploy_params(image, properties)
    return BootImage(
        id=image.id,
        name=image.name or "",
        size=image.size or 0,
        min_disk=image.min_disk,
        min_ram=image.min_ram,
        disk_format=image.disk_format or "",
        container_format=image.container_format or "",
        os=os_name,
        os_params=params,
    )
