"""Refuse to delete a project that still has volumes whose disks live on a cluster."""

from __future__ import annotations

from typing import Any

from compute.volume.models import Volume
from identity.models import Project
from portal.errors import InvalidState


def refuse_while_volumes(sender: Any, *, project: Project, **kwargs: Any) -> None:
    """Receiver of identity.signals.project_deleting: 409 while volume disks of the project exist on clusters
    (deleting the rows would orphan the disks); volumes that never reached a cluster go with the project."""
    count = Volume.objects.for_project(project.pk).filter(cluster__isnull=False).count()
    if count:
        raise InvalidState(
            f"Project {project.name} still has {count} volume(s) stored on clusters; delete them before deleting "
            "the project."
        )
