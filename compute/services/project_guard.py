"""Refuse to delete a project that still owns servers (their instances live on clusters)."""

from __future__ import annotations

from typing import Any

from compute.models import Server
from identity.models import Project
from portal.errors import InvalidState


def refuse_while_servers(sender: Any, *, project: Project, **kwargs: Any) -> None:
    """Receiver of identity.signals.project_deleting: 409 while the project has live servers."""
    count = Server.objects.for_project(project.pk).live().count()
    if count:
        raise InvalidState(
            f"Project {project.name} still has {count} server(s); delete them before deleting the project."
        )
