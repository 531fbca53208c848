"""The quota resource registry: each app declares the resources it charges, once, at start-up.

Declarations live in memory; `sync_resources()` (run by `bootstrap` and migrations' post hook)
writes them to the Resource table so limits can be set per project and per user.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceSpec:
    """A declared resource and its default limits."""

    name: str
    description: str
    unit: str = ""
    default_project_limit: int = 0
    default_user_limit: int | None = None


_registry: dict[str, ResourceSpec] = {}


def declare(spec: ResourceSpec) -> None:
    """Declare a resource (idempotent; a later declaration of the same name replaces it)."""
    _registry[spec.name] = spec


def declared() -> list[ResourceSpec]:
    """All declared resources, by name."""
    return [_registry[name] for name in sorted(_registry)]


def sync_resources() -> int:
    """Create or update a Resource row for every declared resource; return how many were written."""
    from identity.quota_models import Resource

    for spec in declared():
        Resource.objects.update_or_create(
            name=spec.name,
            defaults={
                "description": spec.description,
                "unit": spec.unit,
                "default_project_limit": spec.default_project_limit,
                "default_user_limit": spec.default_user_limit,
            },
        )
    return len(_registry)
