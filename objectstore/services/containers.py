"""Account and container services: create, update metadata, delete, and usage statistics.

Counts and bytes are computed from current, unexpired versions when asked (no counters to keep
consistent under concurrent writes); the (container, name) index keeps that cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from identity.models import Project
from objectstore import limits
from objectstore.models import Account, Container, Object, ObjectVersion
from objectstore.services import charges
from portal import audit
from portal.errors import Conflict, NotFound


@dataclass(frozen=True)
class Usage:
    """How much a container or account holds."""

    containers: int
    objects: int
    bytes: int


def live_objects_q(prefix: str = "") -> Q:
    """The filter for objects with a current, unexpired version (relative to a path `prefix`)."""
    now = timezone.now()
    return Q(**{f"{prefix}current__isnull": False}) & (
        Q(**{f"{prefix}current__delete_at__isnull": True}) | Q(**{f"{prefix}current__delete_at__gt": now})
    )


def get_container(project: Project, name: str) -> Container:
    """The project's container called `name` (NotFound otherwise)."""
    container = Container.objects.filter(project=project, name=name).select_related("project").first()
    if container is None:
        raise NotFound("The resource could not be found.")
    return container


def merge_metadata(current: dict[str, str], updates: dict[str, str]) -> dict[str, str]:
    """Swift's metadata POST semantics: set the given keys, drop the ones set to an empty value."""
    merged = {**current, **updates}
    return {key: value for key, value in merged.items() if value != ""}


def put_container(
    project: Project, name: str, *, metadata: dict[str, str], actor: Any, policy: dict[str, Any] | None = None
) -> tuple[Container, bool]:
    """Create a container, or update the metadata of an existing one; returns it and whether it is new."""
    policy = policy or {}
    try:
        with transaction.atomic():
            container = Container.objects.create(
                project=project, name=name, metadata=merge_metadata({}, metadata), **policy
            )
            audit.record(actor, "objectstore.container.create", container, project_id=project.pk)
            return container, True
    except IntegrityError:
        container = update_container(project, name, metadata=metadata, policy=policy)
        return container, False


def update_container(
    project: Project, name: str, *, metadata: dict[str, str], policy: dict[str, Any] | None = None
) -> Container:
    """Merge metadata (and policy fields such as ACLs) into an existing container."""
    with transaction.atomic():
        container = Container.objects.select_for_update().filter(project=project, name=name).first()
        if container is None:
            raise NotFound("The resource could not be found.")
        container.metadata = merge_metadata(container.metadata, metadata)
        limits.check_metadata(container.metadata, "Container")  # the stored total, as Swift's backend checks
        for attr, value in (policy or {}).items():
            setattr(container, attr, value)
        container.updated_at = timezone.now()
        container.save()
    return container


def delete_container(project: Project, name: str, *, actor: Any) -> None:
    """Delete an empty container (Conflict if it still lists objects)."""
    with transaction.atomic():
        container = Container.objects.select_for_update().filter(project=project, name=name).first()
        if container is None:
            raise NotFound("The resource could not be found.")
        if Object.objects.filter(container=container).filter(live_objects_q()).exists():
            raise Conflict("There was a conflict when trying to complete your request.")
        audit.record(actor, "objectstore.container.delete", container, project_id=project.pk)
        # Expired (not yet purged) or history-only versions go with it: give their bytes back.
        leftover = ObjectVersion.objects.filter(object__container=container).aggregate(b=Sum("size"))["b"] or 0
        container.delete()
        charges.release_on_commit(project, leftover, actor=actor, target=name)


def container_usage(container: Container) -> Usage:
    """Objects and bytes in a container."""
    row = (
        Object.objects.filter(container=container)
        .filter(live_objects_q())
        .aggregate(n=Count("pk"), b=Sum("current__size"))
    )
    return Usage(containers=1, objects=row["n"] or 0, bytes=row["b"] or 0)


def account_usage(project: Project) -> Usage:
    """Containers, objects and bytes in a project's account."""
    containers = Container.objects.filter(project=project).count()
    row = (
        Object.objects.filter(container__project=project)
        .filter(live_objects_q())
        .aggregate(n=Count("pk"), b=Sum("current__size"))
    )
    return Usage(containers=containers, objects=row["n"] or 0, bytes=row["b"] or 0)


def account_metadata(project: Project) -> dict[str, str]:
    """The account's metadata (empty for an account never POSTed to)."""
    account = Account.objects.filter(project=project).first()
    return dict(account.metadata) if account else {}


def account_created(project: Project) -> float:
    """When the account came to be (the project's creation), as epoch seconds."""
    return project.created_at.timestamp()


def update_account(project: Project, *, metadata: dict[str, str], actor: Any) -> Account:
    """Merge metadata into the account (created on first use)."""
    with transaction.atomic():
        account, _ = Account.objects.select_for_update().get_or_create(project=project)
        account.metadata = merge_metadata(account.metadata, metadata)
        limits.check_metadata(account.metadata, "Account")  # the stored total, as Swift's backend checks
        account.save(update_fields=["metadata"])
        audit.record(actor, "objectstore.account.update", account, project_id=project.pk)
    return account
