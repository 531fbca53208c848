"""Seeding on `manage.py bootstrap`: the volume types, one per disk template the clusters offer."""

from __future__ import annotations

from typing import Any


def on_bootstrapped(sender: Any, **kwargs: Any) -> str:
    """Receiver of identity.signals.bootstrapped: make sure the default volume types exist."""
    from compute.volume.services.types import seed_volume_types

    names = [vtype.name for vtype in seed_volume_types()]
    return f"volume types {', '.join(names)}"
