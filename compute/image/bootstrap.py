"""Seeding on `manage.py bootstrap`: the public simulated image, owned by the admin project."""

from __future__ import annotations

from typing import Any

from identity.models import Project


def on_bootstrapped(sender: Any, *, admin_project: Project, **kwargs: Any) -> str:
    """Receiver of identity.signals.bootstrapped: make sure the default public image exists."""
    from compute.image.services.seed import seed_default_image

    image = seed_default_image(owner_project=admin_project)
    return f"public image {image.name} ({image.id})"
