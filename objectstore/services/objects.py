"""Object services: make stored content visible as a version, copy, update metadata, delete, expire.

Every write locks the object's row, swaps `Object.current` in one transaction and charges the
quota ledger around it (see `charges`). Readers never see a version whose blocks are not stored:
the blocks are touched (and checked) inside the transaction that makes the version current.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from objectstore.blocks import block_store
from objectstore.errors import PreconditionFailed, StorageUnavailable
from objectstore.models import Container, Object, ObjectVersion
from objectstore.services import charges
from objectstore.services.uploads import StoredData
from portal.errors import NotFound

logger = logging.getLogger(__name__)


@dataclass
class ObjectAttrs:
    """What a client says about a new version besides its bytes."""

    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    delete_at: datetime | None = None


def _is_live(version: ObjectVersion | None, now: datetime | None = None) -> bool:
    return version is not None and (version.delete_at is None or version.delete_at > (now or timezone.now()))


def get_version(container: Container, name: str) -> ObjectVersion:
    """The current, unexpired version of `name` (NotFound otherwise)."""
    now = timezone.now()
    version = (
        ObjectVersion.objects.filter(current_of__container=container, current_of__name=name)
        .filter(Q(delete_at__isnull=True) | Q(delete_at__gt=now))
        .select_related("object")
        .first()
    )
    if version is None:
        raise NotFound("The resource could not be found.")
    return version


def _locked_object(container: Container, name: str) -> Object:
    """The object row for `name` (created if missing), locked until the transaction ends."""
    obj, _ = Object.objects.get_or_create(container=container, name=name)
    return Object.objects.select_for_update().get(pk=obj.pk)


def _retire(container: Container, obj: Object, old: ObjectVersion | None, *, actor: Any) -> None:
    """Drop a replaced or deleted version unless the container keeps history; give its bytes back."""
    if old is None or container.versioning == Container.Versioning.AUTO:
        return
    size = old.size
    old.delete()
    charges.release_on_commit(container.project, size, actor=actor, target=f"{container.name}/{obj.name}")


def put_object(
    container: Container,
    name: str,
    data: StoredData,
    attrs: ObjectAttrs,
    *,
    actor: Any,
    if_none_match: bool = False,
) -> ObjectVersion:
    """Make stored content the current version of `name`, charging its size to the project.

    With `if_none_match`, raises PreconditionFailed if a live version exists. Raises
    QuotaExceeded (nothing becomes visible) and StorageUnavailable if a block vanished.
    """
    key = charges.new_upload_key()
    commission = charges.charge(container.project, data.size, actor=actor, key=key, target=f"{container.name}/{name}")
    committed = False
    try:
        with transaction.atomic():
            obj = _locked_object(container, name)
            old = ObjectVersion.objects.filter(pk=obj.current_id).first() if obj.current_id else None
            if if_none_match and _is_live(old):
                raise PreconditionFailed("A precondition for this request was not met.")
            if block_store().touch(data.hashmap):
                raise StorageUnavailable("A block of the upload is missing; retry the upload.")
            version = ObjectVersion.objects.create(
                object=obj,
                hashmap=data.hashmap,
                block_size=data.block_size,
                size=data.size,
                etag=data.etag,
                content_type=attrs.content_type,
                modified_by=str(getattr(actor, "pk", "") or ""),
                metadata=attrs.metadata,
                delete_at=attrs.delete_at,
                upload_key=key,
            )
            obj.current = version
            obj.save(update_fields=["current"])
            _retire(container, obj, old, actor=actor)
            charges.accept_on_commit(commission)
        committed = True
    finally:
        if not committed:
            charges.reject(commission)
    return version


def copy_object(
    source: ObjectVersion,
    container: Container,
    name: str,
    *,
    actor: Any,
    metadata: dict[str, str],
    content_type: str | None,
    delete_at: datetime | None = None,
    fresh_metadata: bool = False,
) -> ObjectVersion:
    """A new version of `name` sharing the source's blocks (no data is copied), metadata merged."""
    merged = dict(metadata) if fresh_metadata else {**source.metadata, **metadata}
    data = StoredData(hashmap=list(source.hashmap), size=source.size, etag=source.etag, block_size=source.block_size)
    attrs = ObjectAttrs(content_type=content_type or source.content_type, metadata=merged, delete_at=delete_at)
    return put_object(container, name, data, attrs, actor=actor)


def update_object(
    container: Container,
    name: str,
    *,
    metadata: dict[str, str],
    content_type: str | None,
    delete_at: datetime | None,
    clear_delete_at: bool,
) -> ObjectVersion:
    """Swift POST: replace the current version's user metadata (and Content-Type / expiry if given)."""
    with transaction.atomic():
        obj = Object.objects.select_for_update().filter(container=container, name=name).first()
        version = ObjectVersion.objects.filter(pk=obj.current_id).first() if obj and obj.current_id else None
        if not _is_live(version):
            raise NotFound("The resource could not be found.")
        version.metadata = metadata
        if content_type:
            version.content_type = content_type
        if delete_at is not None or clear_delete_at:
            version.delete_at = delete_at
        version.modified_at = timezone.now()
        version.save(update_fields=["metadata", "content_type", "delete_at", "modified_at"])
    return version


def delete_object(container: Container, name: str, *, actor: Any, if_delete_at: int | None = None) -> None:
    """Remove `name` from listings and reads; its bytes are given back unless history is kept.

    With `if_delete_at` (epoch seconds), only if the version expires exactly then (PreconditionFailed otherwise).
    """
    with transaction.atomic():
        obj = Object.objects.select_for_update().filter(container=container, name=name).first()
        version = ObjectVersion.objects.filter(pk=obj.current_id).first() if obj and obj.current_id else None
        if not _is_live(version):
            raise NotFound("The resource could not be found.")
        if if_delete_at is not None and (
            version.delete_at is None or int(version.delete_at.timestamp()) != if_delete_at
        ):
            raise PreconditionFailed("A precondition for this request was not met.")
        _remove(container, obj, version, actor=actor)


def _remove(container: Container, obj: Object, version: ObjectVersion, *, actor: Any) -> None:
    """Unset the current version, then drop it (and the name) when the container keeps no history."""
    obj.current = None
    obj.save(update_fields=["current"])
    _retire(container, obj, version, actor=actor)
    if not obj.versions.exists():
        obj.delete()


def purge_expired(now: datetime | None = None, *, batch: int = 500) -> int:
    """Delete objects whose X-Delete-At has passed (the periodic expirer); returns how many."""
    now = now or timezone.now()
    purged = 0
    pending = Object.objects.filter(current__delete_at__lte=now).select_related("container__project")
    for obj in list(pending[:batch]):
        with transaction.atomic():
            locked = Object.objects.select_for_update().filter(pk=obj.pk).first()
            version = ObjectVersion.objects.filter(pk=locked.current_id).first() if locked else None
            if version is None or version.delete_at is None or version.delete_at > now:
                continue
            _remove(obj.container, locked, version, actor=None)
            purged += 1
    if purged:
        logger.info("objectstore expired objects purged", extra={"count": purged})
    return purged
