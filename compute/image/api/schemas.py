"""The JSON schemas Glance serves at `/v2/schemas/...`, also used to validate request bodies.

The image schema is "permissive" as in Glance: any property not listed is allowed if its value
is a string (`additionalProperties: {"type": "string"}`); the collection schemas wrap it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import jsonschema

from compute.image.limits import CONTAINER_FORMATS, DISK_FORMATS
from compute.image.models import MemberStatus, Visibility
from compute.image.states import Status

UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"


def _prop(kind: str | list[str], description: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **extra}


def _read_only(kind: str | list[str], description: str, **extra: Any) -> dict[str, Any]:
    return _prop(kind, description, readOnly=True, **extra)


BASE_PROPERTIES: dict[str, Any] = {
    "id": _prop("string", "An identifier for the image", pattern=UUID_PATTERN),
    "name": _prop(["null", "string"], "Descriptive name for the image", maxLength=255),
    "status": _read_only("string", "Status of the image", enum=[s.value for s in Status]),
    "visibility": _prop("string", "Scope of image accessibility", enum=[v.value for v in Visibility]),
    "protected": _prop("boolean", "If true, image will not be deletable."),
    "os_hidden": _prop("boolean", "If true, image will not appear in default image list response."),
    "checksum": _read_only(["null", "string"], "md5 hash of image contents.", maxLength=32),
    "os_hash_algo": _read_only(["null", "string"], "Algorithm to calculate the os_hash_value", maxLength=64),
    "os_hash_value": _read_only(
        ["null", "string"],
        "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
        maxLength=128,
    ),
    "owner": _prop(["null", "string"], "Owner of the image", maxLength=255),
    "size": _read_only(["null", "integer"], "Size of image file in bytes"),
    "virtual_size": _read_only(["null", "integer"], "Virtual size of image in bytes"),
    "container_format": _prop(["null", "string"], "Format of the container", enum=[None, *CONTAINER_FORMATS]),
    "disk_format": _prop(["null", "string"], "Format of the disk", enum=[None, *DISK_FORMATS]),
    "created_at": _read_only("string", "Date and time of image registration"),
    "updated_at": _read_only("string", "Date and time of the last image modification"),
    "tags": _prop("array", "List of strings related to the image", items={"type": "string", "maxLength": 255}),
    "direct_url": _read_only("string", "URL to access the image file kept in external store"),
    "min_ram": _prop("integer", "Amount of ram (in MB) required to boot image."),
    "min_disk": _prop("integer", "Amount of disk space (in GB) required to boot image."),
    "self": _read_only("string", "An image self url"),
    "file": _read_only("string", "An image file url"),
    "schema": _read_only("string", "An image schema url"),
}

# Glance's default schema-image.json, plus the Nefos properties that steer deployment.
CUSTOM_PROPERTIES: dict[str, Any] = {
    "kernel_id": _prop(
        ["null", "string"],
        "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
        pattern=UUID_PATTERN,
    ),
    "ramdisk_id": _prop(
        ["null", "string"],
        "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
        pattern=UUID_PATTERN,
    ),
    "instance_uuid": _prop(
        "string", "Metadata which can be used to record which instance this image is associated with."
    ),
    "architecture": _prop("string", "Operating system architecture."),
    "os_distro": _prop("string", "Common name of operating system distribution."),
    "os_version": _prop("string", "Operating system version as specified by the distributor."),
    "description": _prop("string", "A human-readable string describing this image."),
    "nefos:os": _prop("string", "The cluster OS definition that deploys this image (e.g. an image-deploying OS)."),
    "nefos:os_params": _prop("string", "A JSON object of OS parameters for that definition (${...} placeholders)."),
}

LINKS = [
    {"rel": "self", "href": "{self}"},
    {"rel": "enclosure", "href": "{file}"},
    {"rel": "describedby", "href": "{schema}"},
]

MEMBER_PROPERTIES: dict[str, Any] = {
    "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
    "image_id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
    "created_at": {"type": "string", "description": "Date and time of image member creation"},
    "updated_at": {"type": "string", "description": "Date and time of last modification of image member"},
    "status": {
        "type": "string",
        "description": "The status of this image member",
        "enum": [s.value for s in MemberStatus],
    },
    "schema": {"readOnly": True, "type": "string"},
}


def image_schema() -> dict[str, Any]:
    """`GET /v2/schemas/image`: the permissive image schema."""
    return {
        "name": "image",
        "properties": copy.deepcopy({**BASE_PROPERTIES, **CUSTOM_PROPERTIES}),
        "additionalProperties": {"type": "string"},
        "links": copy.deepcopy(LINKS),
    }


def _collection(name: str, item: dict[str, Any], *, paged: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {"type": "array", "items": item}}
    links = [{"rel": "describedby", "href": "{schema}"}]
    if paged:
        properties.update(first={"type": "string"}, next={"type": "string"})
        links = [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, *links]
    properties["schema"] = {"type": "string"}
    return {"name": name, "properties": properties, "links": links}


def images_schema() -> dict[str, Any]:
    """`GET /v2/schemas/images`: a page of images."""
    return _collection("images", image_schema(), paged=True)


def member_schema() -> dict[str, Any]:
    """`GET /v2/schemas/member`."""
    return {"name": "member", "properties": copy.deepcopy(MEMBER_PROPERTIES)}


def members_schema() -> dict[str, Any]:
    """`GET /v2/schemas/members`."""
    return _collection("members", member_schema(), paged=False)


SCHEMAS = {"image": image_schema, "images": images_schema, "member": member_schema, "members": members_schema}


@functools.cache
def image_validator() -> jsonschema.protocols.Validator:
    """A compiled validator of image bodies (create bodies and PATCH values)."""
    schema = image_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def validation_error(obj: dict[str, Any]) -> str | None:
    """Glance's message when `obj` does not match the image schema, else None."""
    error = jsonschema.exceptions.best_match(image_validator().iter_errors(obj))
    if error is None:
        return None
    return f"Provided object does not match schema 'image': {error.message}"
