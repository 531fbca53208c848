"""Large objects made of other objects: Swift's dynamic (DLO) and static (SLO) manifests.

A manifest is an ordinary version whose `manifest_kind` says how to assemble it: "dlo" reads
every current object under `container/prefix` in name order; "slo" reads the validated segment
list stored with it (segments may be sub-manifests and may carry a byte range; inline `data`
segments are stored as blocks listed in the manifest version's own hashmap, so GC keeps them). Reads are planned
as a flat list of pieces (a plain version and an inclusive byte range of it) and streamed through
`services.reading`, so a Range request reads only the blocks it needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.db import transaction
from django.utils import timezone

from identity.models import Project
from objectstore.models import Container, ObjectVersion
from objectstore.services import containers, objects, reading
from objectstore.services.uploads import StoredData
from portal.errors import Conflict, NotFound

DLO = "dlo"
SLO = "slo"
MAX_DEPTH = 10
MAX_DLO_SEGMENTS = 10000


@dataclass(frozen=True)
class Piece:
    """Bytes [start, end] (inclusive) of a plain (non-manifest) version."""

    version: ObjectVersion
    start: int
    end: int

    @property
    def length(self) -> int:
        """How many bytes the piece holds."""
        return self.end - self.start + 1


def split_segment_path(path: str) -> tuple[str, str]:
    """`/container/object` (leading slash optional) as (container, object); empty parts if malformed."""
    cname, _, oname = path.lstrip("/").partition("/")
    return cname, oname


def current_version(project: Project, cname: str, oname: str) -> ObjectVersion | None:
    """The live current version of `cname/oname` in `project`, or None."""
    container = Container.objects.filter(project=project, name=cname).first()
    if container is None:
        return None
    try:
        return objects.get_version(container, oname)
    except NotFound:
        return None


def dlo_versions(project: Project, manifest: str) -> list[ObjectVersion]:
    """The current versions of a DLO's segments (`container/prefix`), in name order."""
    cname, _, prefix = unquote(manifest).partition("/")
    container = Container.objects.filter(project=project, name=cname).first()
    if container is None:
        return []
    now = timezone.now()
    rows = (
        ObjectVersion.objects.filter(current_of__container=container, current_of__name__startswith=prefix)
        .live(now)
        .select_related("object")
        .order_by("current_of__name")
    )
    return list(rows[:MAX_DLO_SEGMENTS])


def cut(pieces: list[Piece], start: int, end: int) -> list[Piece]:
    """The sub-list of pieces covering bytes [start, end] of their concatenation."""
    result: list[Piece] = []
    offset = 0
    for piece in pieces:
        low, high = offset, offset + piece.length - 1
        offset += piece.length
        if high < start or low > end:
            continue
        result.append(Piece(piece.version, piece.start + max(start, low) - low, piece.start + min(end, high) - low))
    return result


def parse_range(text: str, size: int) -> tuple[int, int]:
    """An SLO segment range (`a-b`, `a-`, `-n`) as inclusive bounds within `size` (ValueError if unsatisfiable)."""
    first, sep, last = text.strip().partition("-")
    if not sep or (not first and not last):
        raise ValueError(text)
    if not first:
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start < 0 or start > end or start >= size:
        raise ValueError(text)
    return start, end


def plan(project: Project, version: ObjectVersion, depth: int = 0) -> list[Piece]:
    """The flat list of pieces a version's content is made of (Conflict if a segment changed or vanished)."""
    if depth > MAX_DEPTH:
        raise Conflict("Max recursion depth exceeded on manifest.")
    if version.manifest_kind == DLO:
        return [piece for seg in dlo_versions(project, version.manifest or "") for piece in _whole(project, seg, depth)]
    if version.manifest_kind != SLO:
        return [Piece(version, 0, version.size - 1)] if version.size else []
    pieces: list[Piece] = []
    for entry in version.manifest or []:
        if "data" in entry:
            inline = ObjectVersion(hashmap=entry["blocks"], size=entry["bytes"], block_size=entry["block_size"])
            pieces.append(Piece(inline, 0, entry["bytes"] - 1))
            continue
        seg = current_version(project, *split_segment_path(entry["name"]))
        if seg is None or seg.etag != entry["hash"]:
            raise Conflict(f"Segment {entry['name']} changed or is missing.")
        sub = _whole(project, seg, depth)
        if entry.get("range"):
            total = sum(p.length for p in sub)
            start, end = parse_range(entry["range"], total)
            sub = cut(sub, start, end)
        pieces.extend(sub)
    return pieces


def _whole(project: Project, version: ObjectVersion, depth: int) -> list[Piece]:
    """All pieces of a segment (expanding it when it is itself an SLO)."""
    if version.manifest_kind == SLO:
        return plan(project, version, depth + 1)
    return [Piece(version, 0, version.size - 1)] if version.size else []


def size_of(pieces: list[Piece]) -> int:
    """Total bytes of a plan."""
    return sum(piece.length for piece in pieces)


def dlo_etag(project: Project, version: ObjectVersion) -> str:
    """A DLO's ETag: the MD5 of its segments' ETags concatenated."""
    digest = hashlib.md5(usedforsecurity=False)
    for seg in dlo_versions(project, version.manifest or ""):
        digest.update(seg.etag.encode())
    return digest.hexdigest()


def stream(pieces: list[Piece]) -> Iterator[bytes]:
    """The bytes of a plan, each piece read through the block store."""
    for piece in pieces:
        yield from reading.open_range(piece.version, piece.start, piece.end)


def entry_length(entry: dict[str, Any]) -> int:
    """Bytes one stored SLO entry contributes to the whole object."""
    if entry.get("range"):
        start, _, end = entry["range"].partition("-")
        return int(end) - int(start) + 1
    return int(entry["bytes"])


def listed_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The segment list `?multipart-manifest=get` shows (inline data segments as just their data)."""
    return [{"data": e["data"]} if "data" in e else dict(e) for e in entries]


def raw_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A stored segment list in the format `multipart-manifest=put` takes (path, etag, size_bytes, range)."""
    listed: list[dict[str, Any]] = []
    for e in entries:
        if "data" in e:
            listed.append({"data": e["data"]})
            continue
        raw = {"path": e["name"], "etag": e["hash"], "size_bytes": e["bytes"]}
        if e.get("range"):
            raw["range"] = e["range"]
        listed.append(raw)
    return listed


def manifest_document(entries: list[dict[str, Any]]) -> bytes:
    """The JSON body of `?multipart-manifest=get`; its MD5 is the manifest's own ETag (listings' `hash`)."""
    return json.dumps(listed_entries(entries)).encode()


def slo_etag(entries: list[dict[str, Any]]) -> str:
    """Swift's SLO ETag: MD5 over segment ETags (`etag:range;` for ranged segments)."""
    digest = hashlib.md5(usedforsecurity=False)
    for entry in entries:
        text = f"{entry['hash']}:{entry['range']};" if entry.get("range") else entry["hash"]
        digest.update(text.encode())
    return digest.hexdigest()


def put_manifest(
    container: Container,
    name: str,
    data: StoredData,
    attrs: objects.ObjectAttrs,
    *,
    kind: str,
    manifest: Any,
    actor: Any,
) -> ObjectVersion:
    """Store a manifest version of `name` (DLO with its own bytes, or SLO with none) in one transaction."""
    with transaction.atomic():
        version = objects.put_object(container, name, data, attrs, actor=actor)
        set_manifest(version, kind, manifest)
    return version


def set_manifest(version: ObjectVersion, kind: str, manifest: Any) -> None:
    """Mark an existing version as a manifest of `kind` ("" for plain content)."""
    version.manifest_kind, version.manifest = kind, manifest
    version.save(update_fields=["manifest_kind", "manifest"])


def delete_slo(project: Project, container: Container, name: str, *, actor: Any) -> tuple[int, int, list[list[str]]]:
    """Delete an SLO's segments (recursively) and then the manifest; returns (deleted, not found, errors)."""
    version = objects.get_version(container, name)
    targets: list[tuple[str, str]] = []
    _collect(project, version, targets, 0)
    targets.append((container.name, name))
    deleted = missing = 0
    errors: list[list[str]] = []
    for cname, oname in targets:
        try:
            objects.delete_object(containers.get_container(project, cname), oname, actor=actor)
            deleted += 1
        except NotFound:
            missing += 1
    return deleted, missing, errors


def _collect(project: Project, version: ObjectVersion, targets: list[tuple[str, str]], depth: int) -> None:
    """Append the (container, object) of every segment of an SLO, sub-manifests' segments first."""
    if version.manifest_kind != SLO or depth > MAX_DEPTH:
        return
    for entry in version.manifest or []:
        if "name" not in entry:
            continue  # an inline data segment: its blocks go with the manifest
        cname, oname = split_segment_path(entry["name"])
        seg = current_version(project, cname, oname)
        if seg is not None:
            _collect(project, seg, targets, depth + 1)
        targets.append((cname, oname))
