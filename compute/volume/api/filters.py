"""The filters Cinder's volume listings take besides name and status: `bootable` and `metadata`.

Cinder reads `metadata` as a Python dict literal (`metadata={'Type': 'work'}`, what tempest and
cinderclient send) and keeps the volumes whose metadata holds every given pair.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform

from portal.errors import ValidationFailed

TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
FALSE = frozenset({"0", "f", "false", "off", "n", "no"})


def _bootable(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise ValidationFailed(f"Invalid input received: bootable={raw} is not a boolean.")


def _metadata(raw: str) -> dict[str, str]:
    try:
        parsed = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
        raise ValidationFailed(f"Invalid input received: metadata={raw[:100]} must be a dict of strings.")
    return parsed


def apply(rows: QuerySet, params: Mapping[str, str]) -> QuerySet:
    """`rows` narrowed by the `bootable` and `metadata` filters in `params` (400 when malformed)."""
    if params.get("bootable"):
        rows = rows.filter(bootable=_bootable(params["bootable"]))
    if params.get("metadata"):
        for n, (key, value) in enumerate(sorted(_metadata(params["metadata"]).items())):
            # The key taken literally (a `metadata__<key>` lookup would parse `__` and lookup names).
            rows = rows.annotate(**{f"_meta{n}": KeyTransform(key, "metadata")}).filter(**{f"_meta{n}": value})
    return rows
