"""Object history (Pithos versions), the container versioning policy, and MOVE.

With `versioning=auto` every replaced or deleted version is kept (and stays charged); with
`none` only the current one is. A version is named by its id; restoring one makes a new current
version that shares its blocks.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from objectstore.models import Container, Object, ObjectVersion
from objectstore.services import charges, objects
from portal import audit
from portal.errors import NotFound, ValidationFailed

POLICIES = {choice.value for choice in Container.Versioning}


def list_versions(container: Container, name: str) -> list[ObjectVersion]:
    """Every stored version of `name`, oldest first (NotFound when there is none)."""
    versions = list(
        ObjectVersion.objects.filter(object__container=container, object__name=name).order_by("modified_at", "pk")
    )
    if not versions:
        raise NotFound("The resource could not be found.")
    return versions


def get_version(container: Container, name: str, version_id: str) -> ObjectVersion:
    """One unexpired version of `name` by id (NotFound when it is not one of its versions)."""
    if not version_id.isdigit() or len(version_id) > 18:
        raise NotFound("The resource could not be found.")
    version = (
        ObjectVersion.objects.live()
        .filter(pk=int(version_id), object__container=container, object__name=name)
        .select_related("object")
        .first()
    )
    if version is None:
        raise NotFound("The resource could not be found.")
    return version


def restore_version(container: Container, name: str, version_id: str, *, actor: Any) -> ObjectVersion:
    """Make an old version's content current again (a new version sharing its blocks, charged)."""
    source = get_version(container, name, version_id)
    charges.precheck(container.project, source.size)
    return objects.copy_object(
        source,
        container,
        name,
        actor=actor,
        metadata=dict(source.metadata),
        content_type=source.content_type,
        fresh_metadata=True,
    )


def set_policy(container: Container, policy: str, *, actor: Any) -> Container:
    """Set the versioning policy; switching to `none` drops the history now and returns its bytes."""
    if policy not in POLICIES:
        raise ValidationFailed("X-Container-Policy-Versioning must be auto or none")
    with transaction.atomic():
        locked = Container.objects.select_for_update().get(pk=container.pk)
        locked.versioning = policy
        locked.save(update_fields=["versioning"])
        if policy == Container.Versioning.NONE:
            history = ObjectVersion.objects.filter(object__container=locked, current_of__isnull=True)
            freed = history.aggregate(b=Sum("size"))["b"] or 0
            history.delete()
            Object.objects.filter(container=locked, current__isnull=True).delete()
            charges.release_on_commit(locked.project, freed, actor=actor, target=locked.name)
        audit.record(actor, "objectstore.container.versioning", locked, project_id=locked.project_id)
    return locked


def move_object(
    source_container: Container,
    source_name: str,
    container: Container,
    name: str,
    *,
    actor: Any,
    metadata: dict[str, str],
    content_type: str | None,
) -> ObjectVersion:
    """Copy the source's current version to `container/name`, then delete the source (unless it is the target)."""
    source = objects.get_version(source_container, source_name)
    charges.precheck(container.project, source.size)
    version = objects.copy_object(
        source, container, name, actor=actor, metadata=metadata, content_type=content_type, delete_at=source.delete_at
    )
    if (source_container.pk, source_name) != (container.pk, name):
        # A concurrent delete may already have removed the source: the move still happened.
        with contextlib.suppress(NotFound):
            objects.delete_object(source_container, source_name, actor=actor)
    return version


def version_timestamp(version: ObjectVersion) -> float:
    """A version's modification time as epoch seconds (Pithos lists versions with it)."""
    return (version.modified_at or timezone.now()).timestamp()
