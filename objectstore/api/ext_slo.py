"""Storing static large objects: `PUT ?multipart-manifest=put` and copies of a manifest itself.

Every segment is checked (exists, ETag, size, range, at least 1 byte; at most 1000 segments in
an 8 MiB body); errors answer 400 with Swift's `Errors:` lines. A caller who does not own the
account must be able to read each segment's container (else `403 Forbidden` for that segment).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from objectstore.api import headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.body import body_reader
from objectstore.errors import PreconditionFailed, UnprocessableEntity
from objectstore.models import Container, ObjectVersion
from objectstore.services import acl, manifests, objects, uploads
from objectstore.services.uploads import StoredData
from portal.errors import ValidationFailed

MAX_MANIFEST_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
ALLOWED_KEYS = frozenset({"path", "etag", "size_bytes", "range"})


def _read_manifest_body(request: HttpRequest) -> list[Any]:
    """The JSON list of an SLO PUT body (400 when missing, too large or not a list of objects)."""
    read, length = body_reader(request)
    if length is not None and length > MAX_MANIFEST_SIZE:
        raise ValidationFailed(f"Manifest File > {MAX_MANIFEST_SIZE} bytes")
    chunks: list[bytes] = []
    total = 0
    while length is None or total < length:
        piece = read(min(65536, (length - total) if length is not None else 65536))
        if not piece:
            break
        chunks.append(piece)
        total += len(piece)
        if total > MAX_MANIFEST_SIZE:
            raise ValidationFailed(f"Manifest File > {MAX_MANIFEST_SIZE} bytes")
    raw = b"".join(chunks)
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("Manifest must be valid JSON.\n") from exc
    if not isinstance(parsed, list) or not parsed or not all(isinstance(item, dict) for item in parsed):
        raise ValidationFailed("Manifest must be a list of segment objects.\n")
    if len(parsed) > MAX_MANIFEST_SEGMENTS:
        raise ValidationFailed(f"Number of segments must be <= {MAX_MANIFEST_SEGMENTS}\n")
    return parsed


def _data_entry(index: int, item: dict[str, Any], block_size: int) -> tuple[dict | None, str]:
    """An inline `{"data": <base64>}` segment, its bytes stored as blocks."""
    if set(item) != {"data"} or not isinstance(item["data"], str):
        return None, f"Index {index}: data segments must only have the data key"
    try:
        raw = base64.b64decode(item["data"], validate=True)
    except (ValueError, binascii.Error):
        return None, f"Index {index}: data must be valid base64"
    if not raw:
        return None, f"Index {index}: too small; each segment must be at least 1 byte."
    stored = uploads.store_bytes(raw, block_size=block_size)
    entry = {"data": item["data"], "hash": stored.etag, "bytes": stored.size, "blocks": stored.hashmap}
    entry["block_size"] = block_size
    return entry, ""


def _check_entry(caller: SwiftCaller, index: int, item: dict[str, Any], self_path: str) -> tuple[dict | None, str]:
    """Validate one segment description; returns (stored entry, "") or (None, error text)."""
    if set(item) - ALLOWED_KEYS or not isinstance(item.get("path"), str):
        return None, f"Index {index}: invalid segment description"
    cname, oname = manifests.split_segment_path(item["path"])
    if not cname or not oname:
        return None, f"Index {index}: path does not refer to an object. Path must be of the form /container/object."
    if f"/{cname}/{oname}" == self_path:
        return None, f"/{cname}/{oname}, 409 Conflict"
    etag, size, rng = item.get("etag"), item.get("size_bytes"), item.get("range")
    if etag is not None and not isinstance(etag, str):
        return None, f"Index {index}: invalid etag"
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        return None, f"Index {index}: invalid size_bytes"
    if rng is not None and not isinstance(rng, str):
        return None, f"Index {index}: invalid range"
    if not _readable(caller, cname):
        return None, f"/{cname}/{oname}, 403 Forbidden"
    seg = manifests.current_version(caller.project, cname, oname)
    if seg is None:
        return None, f"/{cname}/{oname}, 404 Not Found"
    total = manifests.size_of(manifests.plan(caller.project, seg)) if seg.manifest_kind else seg.size
    if etag is not None and headers.strip_etag(etag) != seg.etag:
        return None, f"/{cname}/{oname}, Etag Mismatch"
    if size is not None and size != total:
        return None, f"/{cname}/{oname}, Size Mismatch"
    entry = {"name": f"/{cname}/{oname}", "hash": seg.etag, "bytes": total, "content_type": seg.content_type}
    entry["last_modified"] = headers.listing_time(seg.modified_at)
    length = total
    if rng:
        try:
            start, end = manifests.parse_range(rng, total)
        except ValueError:
            return None, f"/{cname}/{oname}, Unsatisfiable Range"
        length = end - start + 1
        entry["range"] = f"{start}-{end}"
        if length == total:
            entry.pop("range")
    if length < MIN_SEGMENT_SIZE:
        return None, f"/{cname}/{oname}, Too small; each segment must be at least 1 byte."
    if seg.manifest_kind == manifests.SLO:
        entry["sub_slo"] = True
    return entry, ""


def validate_segments(caller: SwiftCaller, container: Container, name: str, items: list[Any]) -> list[dict]:
    """The stored form of a segment list, every segment checked (400 listing each error)."""
    self_path = f"/{container.name}/{name}"
    entries: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        if "data" in item:
            entry, error = _data_entry(index, item, container.block_size)
        else:
            entry, error = _check_entry(caller, index, item, self_path)
        if entry is None:
            errors.append(error)
        else:
            entries.append(entry)
    if errors:
        raise ValidationFailed("Errors:\n" + "\n".join(errors))
    return entries


def store_slo(
    caller: SwiftCaller, container: Container, name: str, entries: list[dict], attrs: objects.ObjectAttrs
) -> ObjectVersion:
    """Make a validated segment list the current version of `name` (the manifest stores no bytes itself)."""
    inline_blocks = [digest for entry in entries for digest in entry.get("blocks", [])]
    etag = manifests.slo_etag(entries)
    data = StoredData(hashmap=inline_blocks, size=0, etag=etag, block_size=container.block_size)
    return manifests.put_manifest(
        container, name, data, attrs, kind=manifests.SLO, manifest=entries, actor=caller.actor
    )


def put_slo(request: HttpRequest, caller: SwiftCaller, container: Container, name: str) -> HttpResponse:
    """`PUT ?multipart-manifest=put`: validate every segment, then store the manifest (201)."""
    if request.headers.get("If-None-Match", "").strip() == "*" and manifests.current_version(
        caller.project, container.name, name
    ):
        raise PreconditionFailed("A precondition for this request was not met.")
    entries = validate_segments(caller, container, name, _read_manifest_body(request))
    given = request.headers.get("ETag")
    if given and headers.strip_etag(given) != manifests.slo_etag(entries):
        raise UnprocessableEntity("Unable to process the contained instructions")
    attrs = objects.ObjectAttrs(
        content_type=headers.content_type(request, name),
        metadata={k: v for k, v in headers.read_metadata(request, "Object").items() if v},
        delete_at=headers.delete_at(request),
    )
    version = store_slo(caller, container, name, entries, attrs)
    response = HttpResponse(status=201, content_type="text/html; charset=UTF-8")
    response["ETag"] = f'"{version.etag}"'
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    return response


def copy_slo(
    caller: SwiftCaller, source: ObjectVersion, container: Container, name: str, attrs: objects.ObjectAttrs
) -> ObjectVersion:
    """A copy of an SLO manifest itself: its segment list stored again, re-checked where the copy lands.

    As in Swift (a copy is a manifest PUT), the segments' paths name containers of the
    destination account, which the caller must be able to read.
    """
    entries = validate_segments(caller, container, name, manifests.raw_entries(source.manifest or []))
    return store_slo(caller, container, name, entries, attrs)


def _readable(caller: SwiftCaller, cname: str) -> bool:
    """Whether the caller may read segments in container `cname` of the account (owners always may)."""
    if caller.owner:
        return True
    container = Container.objects.filter(project=caller.project, name=cname).first()
    return container is not None and acl.may_read(container.read_acl, caller.ctx, "", listing=False)
