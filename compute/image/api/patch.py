"""Glance's JSON-patch dialects for `PATCH /v2/images/{id}`, parsed into service `Change`s.

- `application/openstack-images-v2.1-json-patch` (JSON-patch draft 10, RFC 6902 style):
  `[{"op": "replace", "path": "/name", "value": "x"}]` — what openstacksdk sends;
- `application/openstack-images-v2.0-json-patch` (draft 4): `[{"replace": "/name", "value": "x"}]`
  — what tempest sends.
Only top-level paths are accepted, and `/tags/<n>` or `/tags/-` for single tags (openstacksdk
diffs tag lists that way); Glance's `locations` sub-paths are not offered here.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.parsers import JSONParser

from compute.image import limits
from compute.image.api.schemas import validation_error
from compute.image.services.attributes import Change
from portal.errors import Forbidden, ValidationFailed

V21 = "application/openstack-images-v2.1-json-patch"
V20 = "application/openstack-images-v2.0-json-patch"
OPS = ("add", "remove", "replace")
MAX_CHANGES = 512


class PatchV21Parser(JSONParser):
    """DRF parser for the v2.1 (draft 10) patch media type."""

    media_type = V21


class PatchV20Parser(JSONParser):
    """DRF parser for the v2.0 (draft 4) patch media type."""

    media_type = V20


def _op_and_path(raw: dict[str, Any], draft: int) -> tuple[str, Any]:
    available = ", ".join(OPS)
    if draft == 10:
        op = raw.get("op")
        if op is None:
            raise ValidationFailed(
                f"Unable to find `op` in JSON Schema change. It must be one of the following: {available}."
            )
        if op not in OPS:
            raise ValidationFailed(f"Invalid operation: `{op}`. It must be one of the following: {available}.")
        if "path" not in raw:
            raise ValidationFailed("Unable to find 'path' in JSON Schema change")
        return op, raw["path"]
    present = [key for key in OPS if key in raw]
    if len(present) != 1:
        raise ValidationFailed('Operation objects must contain exactly one member named "add", "remove", or "replace".')
    return present[0], raw[present[0]]


def _pointer(pointer: Any) -> list[str]:
    """Decode a JSON pointer the way Glance accepts it."""
    if not isinstance(pointer, str):
        raise ValidationFailed("Pointer must be a string.")
    if not pointer.startswith("/"):
        raise ValidationFailed(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise ValidationFailed(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise ValidationFailed(f'Pointer `{pointer}` end with "/".')
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise ValidationFailed(f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.')
    return [part.replace("~1", "/").replace("~0", "~").strip() for part in pointer.lstrip("/").split("/")]


def _change(raw: Any, draft: int) -> Change:
    if not isinstance(raw, dict):
        raise ValidationFailed("Operations must be JSON objects.")
    op, pointer = _op_and_path(raw, draft)
    path = _pointer(pointer)
    root = path[0]
    if root == "locations":
        raise Forbidden("It's not allowed to update locations if locations are invisible.")
    index = _tag_index(path)
    if (len(path) != 1 and index is None) or not root:
        raise ValidationFailed(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
    if root in limits.READ_ONLY:
        raise Forbidden(f"Attribute '{root}' is read-only.")
    if root in limits.RESERVED or root.startswith(limits.RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{root}' is reserved.")
    if op == "remove":
        return Change(op=op, name=root, index=index)
    if "value" not in raw:
        raise ValidationFailed(f'Operation "{op}" requires a member named "value".')
    message = validation_error({root: [raw["value"]] if index is not None else raw["value"]})
    if message:
        raise ValidationFailed(message[:1000])
    return Change(op=op, name=root, value=raw["value"], strict_add=draft == 4, index=index)


def _tag_index(path: list[str]) -> str | None:
    """The element of `/tags/<n>` or `/tags/-` (what openstacksdk's list diffs produce), else None."""
    if len(path) == 2 and path[0] == "tags" and (path[1] == "-" or path[1].isdigit()):
        return path[1]
    return None


def parse_changes(body: list[Any], media_type: str) -> list[Change]:
    """The changes of a PATCH body in one of Glance's two dialects."""
    draft = 10 if media_type.startswith(V21) else 4
    if len(body) > MAX_CHANGES:
        raise ValidationFailed(f"Too many operations: at most {MAX_CHANGES}.")
    return [_change(raw, draft) for raw in body]
