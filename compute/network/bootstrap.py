"""Seeding on `manage.py bootstrap`: the external network `public` floating IPs come from."""

from __future__ import annotations

from typing import Any

from identity.models import Project


def on_bootstrapped(sender: Any, *, admin_project: Project, **kwargs: Any) -> str:
    """Receiver of identity.signals.bootstrapped: make sure the public network exists."""
    from compute.network.services.topology import ensure_public_network

    network = ensure_public_network(project=admin_project)
    return f"external network {network.name} ({network.id})"
