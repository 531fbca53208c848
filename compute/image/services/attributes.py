"""Checking and applying image attributes: core fields, free-form properties and tags.

Create and PATCH share these rules, so a value refused on one path is refused on the other. The
API layer has already matched bodies against the JSON schema; these checks hold for every caller
(API, dashboard, bootstrap) and carry Glance's statuses: 400 bad value, 403 read-only or reserved
or not allowed, 409 a PATCH that names a missing property, 413 too many properties or tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compute.image import limits
from compute.image.models import Image, ImageProperty, ImageTag, Visibility
from compute.image.services import access
from compute.image.states import Status
from identity.models import Project
from identity.tokens import TokenContext
from portal.errors import Conflict, Forbidden, QuotaExceeded, ValidationFailed

CORE = frozenset(
    {"name", "visibility", "protected", "os_hidden", "disk_format", "container_format", "min_disk", "min_ram", "owner"}
)
FORMAT_FIELDS = {"disk_format": limits.DISK_FORMATS, "container_format": limits.CONTAINER_FORMATS}
NUL = "\x00"


@dataclass(frozen=True)
class Change:
    """One PATCH operation on a top-level attribute (`op` is add, replace or remove)."""

    op: str
    name: str
    value: Any = None
    # JSON-patch draft 4 (`application/openstack-images-v2.0-json-patch`): `add` of a present
    # attribute is a conflict; draft 10 (v2.1) replaces it, as RFC 6902 says.
    strict_add: bool = False
    # For `/tags/<n>` and `/tags/-`: the list element the operation targets.
    index: str | None = None


@dataclass
class Draft:
    """An image's properties and tags while changes are applied (written back in one go)."""

    properties: dict[str, str | None] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


def check_name(name: str) -> None:
    """A property name a client may use (not read-only, reserved, too long or empty)."""
    if not name or len(name) > 255 or NUL in name:
        raise ValidationFailed("Custom property should not be greater than 255 characters.")
    if name in limits.READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in limits.RESERVED or name.startswith(limits.RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{name}' is reserved.")


def clean_property(name: str, value: Any) -> str | None:
    """A free-form property value: a string (or null), not too long, without NUL."""
    check_name(name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"Invalid value for property '{name}': a string is required.")
    if value is not None and (len(value) > limits.MAX_PROPERTY_VALUE or NUL in value):
        raise ValidationFailed(f"Invalid value for property '{name}'.")
    return value


def clean_tags(value: Any) -> list[str]:
    """A tag list: strings of at most 255 characters, duplicates dropped, at most MAX_TAGS."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValidationFailed("Invalid value for 'tags': a list of strings is required.")
    tags = list(dict.fromkeys(value))
    for tag in tags:
        check_tag(tag)
    if len(tags) > limits.MAX_TAGS:
        raise QuotaExceeded(f"Maximum number of tags exceeded: {len(tags)} of {limits.MAX_TAGS}.")
    return tags


def check_tag(tag: str) -> None:
    """A single tag: 1 to 255 characters, no NUL."""
    if not tag or len(tag) > 255 or NUL in tag:
        raise ValidationFailed("Invalid tag: tags are 1 to 255 characters long.")


def _clean_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"Invalid value for '{name}': an integer is required.")
    if value < 0:
        raise ValidationFailed(f"Invalid value '{value}' for parameter '{name}': Cannot be a negative value.")
    if value > limits.MAX_INT:
        raise ValidationFailed(f"Invalid value '{value}' for parameter '{name}': too large.")
    return value


def _clean_owner(ctx: TokenContext, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationFailed("Invalid value for 'owner'.")
    if value != ctx.project_id and not ctx.is_admin:
        raise Forbidden(f"You are not permitted to create images owned by '{value}'.")
    if not Project.objects.filter(pk=value).exists():
        raise ValidationFailed(f"Invalid value for 'owner': no project {value}.")
    return value


def clean_core(ctx: TokenContext, name: str, value: Any) -> Any:
    """The checked value of a core attribute (types, formats, ranges, who may set it)."""
    if name == "name":
        if value is not None and (not isinstance(value, str) or len(value) > 255 or NUL in value):
            raise ValidationFailed("Invalid value for 'name': at most 255 characters.")
        return value
    if name == "visibility":
        if value not in Visibility.values:
            raise ValidationFailed('Visibility must be one of "community", "public", "private", or "shared"')
        access.check_visibility_change(ctx, value)
        return value
    if name in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise ValidationFailed(f"Invalid value for '{name}': a boolean is required.")
        return value
    if name in FORMAT_FIELDS:
        if value is not None and value not in FORMAT_FIELDS[name]:
            raise ValidationFailed(f"Invalid value '{value}' for '{name}'.")
        return value
    if name in ("min_disk", "min_ram"):
        return _clean_int(name, value)
    if name == "owner":
        return _clean_owner(ctx, value)
    raise ValidationFailed(f"Unknown attribute '{name}'.")


def set_core(ctx: TokenContext, image: Image, name: str, value: Any) -> None:
    """Set a core attribute on an existing image, with Glance's per-attribute restrictions."""
    if name == "owner" and not ctx.is_admin:
        raise Forbidden("Owner can't be updated by non admin.")
    if name in FORMAT_FIELDS and image.status not in (Status.QUEUED, Status.IMPORTING):
        raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
    cleaned = clean_core(ctx, name, value)
    if name == "owner":
        image.project_id = cleaned
    else:
        setattr(image, name, cleaned)


def apply_change(ctx: TokenContext, image: Image, draft: Draft, change: Change) -> None:
    """Apply one PATCH operation to the image (core fields) or the draft (properties, tags)."""
    name = change.name
    if name in limits.READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in limits.RESERVED or name.startswith(limits.RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{name}' is reserved.")
    core = name in CORE or name == "tags"
    if change.index is not None:
        draft.tags = clean_tags(_tag_element(draft.tags, change))
        return
    if change.op == "remove":
        if core:
            raise Forbidden(f"Property {name} may not be removed.")
        if name not in draft.properties:
            raise Conflict(f"Property {name} does not exist.")
        del draft.properties[name]
        return
    if change.op == "add" and change.strict_add and (core or name in draft.properties):
        raise Conflict(f"Property {name} already present.")
    if change.op == "replace" and not core and name not in draft.properties:
        raise Conflict(f"Property {name} does not exist.")
    if name == "tags":
        draft.tags = clean_tags(change.value)
    elif core:
        set_core(ctx, image, name, change.value)
    else:
        draft.properties[name] = clean_property(name, change.value)
        if len(draft.properties) > limits.MAX_PROPERTIES:
            raise QuotaExceeded(f"Maximum number of image properties exceeded: limit {limits.MAX_PROPERTIES}.")


def _tag_element(tags: list[str], change: Change) -> list[str]:
    """The tag list after an operation on one element (409 for an index past the end)."""
    tags = list(tags)
    position = len(tags) if change.index == "-" else int(change.index or 0)
    limit = len(tags) if change.op == "add" else len(tags) - 1
    if position > limit or (change.index == "-" and change.op != "add"):
        raise Conflict(f"Tag index {change.index} is out of range.")
    if change.op == "add":
        tags.insert(position, change.value)
    elif change.op == "replace":
        tags[position] = change.value
    else:
        del tags[position]
    return tags


def save_draft(image: Image, draft: Draft) -> None:
    """Write the draft's properties and tags back (only the rows that changed)."""
    current = {p.name: p for p in ImageProperty.objects.filter(image=image)}
    stale = [p.pk for n, p in current.items() if n not in draft.properties]
    ImageProperty.objects.filter(pk__in=stale).delete()
    for name, value in draft.properties.items():
        row = current.get(name)
        if row is None:
            ImageProperty.objects.create(image=image, name=name, value=value)
        elif row.value != value:
            row.value = value
            row.save(update_fields=["value"])
    have = set(ImageTag.objects.filter(image=image).values_list("value", flat=True))
    ImageTag.objects.filter(image=image).exclude(value__in=draft.tags).delete()
    ImageTag.objects.bulk_create([ImageTag(image=image, value=t) for t in draft.tags if t not in have])
