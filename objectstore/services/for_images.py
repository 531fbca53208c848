"""Object-store access on behalf of another service (the image service's "Plankton" pattern).

The image service keeps each image's bytes as an ordinary object in its owner's account, so the
owner sees (and pays for) them like any other file. These functions write, read and delete such
an object for a project through the same pipeline as a Swift PUT/GET/DELETE: blocks streamed into
the block store, the version made current under the object's row lock, the size charged to
`objectstore.bytes` with a two-phase commission. They authorize nothing: the caller has already
decided that the project's data may be touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from identity.models import Project
from objectstore.models import Container, ObjectVersion
from objectstore.services import charges, containers, objects, reading, uploads
from objectstore.services.uploads import Reader
from portal.errors import NotFound

MAX_META_VALUE = 256


@dataclass(frozen=True)
class WrittenObject:
    """Where stored bytes ended up, and what they were."""

    container: str
    name: str
    size: int
    etag: str


@dataclass(frozen=True)
class OpenedObject:
    """A readable object: its full size and ETag, and the requested bytes as a lazy stream."""

    size: int
    etag: str
    chunks: Iterator[bytes]


def ensure_container(project: Project, name: str, *, actor: Any) -> Container:
    """The project's container `name`, created (with default policy) if it does not exist."""
    container = Container.objects.filter(project=project, name=name).first()
    if container is None:
        container, _ = containers.put_container(project, name, metadata={}, actor=actor)
    return container


def write_object(
    project: Project,
    container_name: str,
    name: str,
    read: Reader,
    *,
    length: int | None,
    actor: Any,
    metadata: dict[str, str] | None = None,
    content_type: str = "application/octet-stream",
) -> WrittenObject:
    """Stream `length` bytes (or until EOF) from `read` into `container_name/name`, replacing it.

    Raises QuotaExceeded before reading when a known length cannot fit, or after storing when the
    commission is refused (nothing becomes visible then), ClientDisconnect for a short body.
    """
    if length is not None:
        charges.precheck(project, length)
    container = ensure_container(project, container_name, actor=actor)
    data = uploads.store_stream(read, block_size=container.block_size, length=length)
    clean = {key: str(value)[:MAX_META_VALUE] for key, value in (metadata or {}).items() if value}
    attrs = objects.ObjectAttrs(content_type=content_type, metadata=clean)
    version = objects.put_object(container, name, data, attrs, actor=actor)
    return WrittenObject(container=container.name, name=name, size=version.size, etag=version.etag)


def _version(project: Project, container_name: str, name: str) -> ObjectVersion | None:
    """The current plain (non-manifest) version of an object, or None."""
    container = Container.objects.filter(project=project, name=container_name).first()
    if container is None:
        return None
    try:
        version = objects.get_version(container, name)
    except NotFound:
        return None
    return None if version.manifest_kind else version


def object_etag(project: Project, container_name: str, name: str) -> str | None:
    """The ETag (MD5) of the object's current content, or None when there is no such object."""
    version = _version(project, container_name, name)
    return version.etag if version is not None else None


def open_object(
    project: Project,
    container_name: str,
    name: str,
    *,
    etag: str | None = None,
    start: int = 0,
    end: int | None = None,
) -> OpenedObject | None:
    """Bytes [start, end] of the object (all by default, `end` clamped to its size).

    None when it does not exist or, with `etag`, when its content is no longer that one.
    Raises StorageUnavailable when its first block cannot be read intact.
    """
    version = _version(project, container_name, name)
    if version is None or (etag is not None and version.etag != etag):
        return None
    last = version.size - 1 if end is None else min(end, version.size - 1)
    return OpenedObject(size=version.size, etag=version.etag, chunks=reading.open_range(version, start, last))


def delete_object(project: Project, container_name: str, name: str, *, actor: Any, etag: str | None = None) -> bool:
    """Delete the object (its bytes go back to the quota); with `etag`, only if its content still matches.

    Returns whether an object was deleted.
    """
    version = _version(project, container_name, name)
    if version is None or (etag is not None and version.etag != etag):
        return False
    container = containers.get_container(project, container_name)
    try:
        objects.delete_object(container, name, actor=actor)
    except NotFound:
        return False
    return True
