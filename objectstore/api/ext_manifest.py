"""Swift large-object requests: DLO (`X-Object-Manifest`) and SLO (`?multipart-manifest=put|get|delete`).

Hooks called from `api.obj`: `serve` answers GET/HEAD of a manifest with the assembled content,
`put_slo` validates and stores a static manifest, `dlo_header` validates a dynamic one,
`manifest_get` returns an SLO's segment list, `delete_slo` deletes one with its segments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from objectstore.api import ext_parts, headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.body import body_reader
from objectstore.api.conditions import check_preconditions, parse_ranges
from objectstore.errors import NotModified, PreconditionFailed, UnprocessableEntity
from objectstore.models import Container, ObjectVersion
from objectstore.services import acl, manifests, objects, uploads
from objectstore.services.uploads import StoredData
from portal.errors import Forbidden, Unauthorized, ValidationFailed

MAX_MANIFEST_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
ALLOWED_KEYS = frozenset({"path", "etag", "size_bytes", "range"})


def mode(request: HttpRequest) -> str:
    """The `multipart-manifest` query value, lower-cased ("" when absent)."""
    return request.GET.get("multipart-manifest", "").lower()


def dlo_header(request: HttpRequest) -> str | None:
    """The validated `X-Object-Manifest` value (`container/prefix`, kept as sent), or None when absent."""
    raw = request.META.get("HTTP_X_OBJECT_MANIFEST")
    if raw is None:
        return None
    value = headers.from_wire(raw).strip().lstrip("/")
    cname, sep, _ = unquote(value).partition("/")
    if not cname or not sep or "\x00" in unquote(value):
        raise ValidationFailed("X-Object-Manifest must be in the format container/prefix")
    return value


def manifest_headers(response: HttpResponseBase, version: ObjectVersion) -> None:
    """Headers that mark a manifest in any response about it."""
    if version.manifest_kind == manifests.DLO:
        response["X-Object-Manifest"] = headers.to_wire(version.manifest or "")
    elif version.manifest_kind == manifests.SLO:
        response["X-Static-Large-Object"] = "True"


def serve(request: HttpRequest, caller: SwiftCaller, version: ObjectVersion) -> HttpResponseBase:
    """GET/HEAD of a manifest: the concatenated segments (ranges across segments, conditions on the big ETag)."""
    pieces = manifests.plan(caller.project, version)
    if not caller.owner:
        _check_segment_access(request, caller, pieces)
    if caller.container_scope is not None:
        _check_segment_scope(caller.container_scope, pieces)
    size = manifests.size_of(pieces)
    etag = manifests.dlo_etag(caller.project, version) if version.manifest_kind == manifests.DLO else version.etag
    version.etag = etag  # in memory only: conditions and headers compare against the assembled ETag
    ctype = headers.to_wire(version.content_type)
    try:
        check_preconditions(request, version)
    except NotModified:
        response: HttpResponseBase = HttpResponse(status=304)
        return _headers(response, version, etag)
    part = ext_parts.serve_part(request, version, pieces, size, ctype)
    if part is not None:
        return _headers(part, version, etag)
    if request.method == "HEAD":
        response = HttpResponse(status=200, content_type=ctype)
        response["Content-Length"] = str(size)
        return _headers(response, version, etag)
    ranges = parse_ranges(request.headers.get("Range"), size)
    if ranges is not None and len(ranges) > 1 and version.manifest_kind == manifests.DLO:
        ranges = None  # Swift answers a multi-range GET of a DLO with the whole object
    if ranges is None:
        response = StreamingHttpResponse(manifests.stream(pieces), content_type=ctype)
        response["Content-Length"] = str(size)
    elif len(ranges) == 1:
        start, end = ranges[0]
        response = StreamingHttpResponse(manifests.stream(manifests.cut(pieces, start, end)), status=206)
        response["Content-Type"] = ctype
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = _multipart(pieces, ranges, size, ctype)
    return _headers(response, version, etag)


def _check_segment_access(request: HttpRequest, caller: SwiftCaller, pieces: list[manifests.Piece]) -> None:
    """A caller reading through an ACL must be allowed to read every segment's container too (403)."""
    ids = {piece.version.object.container_id for piece in pieces}
    referrer = request.META.get("HTTP_REFERER", "")
    for container in Container.objects.filter(pk__in=ids):
        if not acl.may_read(container.read_acl, caller.ctx, referrer, listing=False):
            raise Forbidden("Access was denied to this resource.")


def _check_segment_scope(cname: str, pieces: list[manifests.Piece]) -> None:
    """A container-key temp URL reaches only segments in that container (401 otherwise)."""
    ids = {piece.version.object.container_id for piece in pieces if piece.version.pk is not None}
    if Container.objects.filter(pk__in=ids).exclude(name=cname).exists():
        raise Unauthorized("Temp URL invalid")


def check_tempurl_manifest(caller: SwiftCaller, cname: str, dlo: str | None) -> None:
    """A temp URL PUT may only make a DLO over its own container (400 otherwise)."""
    if caller.tempurl and dlo is not None and unquote(dlo).partition("/")[0] != cname:
        raise ValidationFailed("X-Object-Manifest must point to the same container when using a temp URL")


def _headers(response: HttpResponseBase, version: ObjectVersion, etag: str) -> HttpResponseBase:
    response["ETag"] = f'"{etag}"'
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    response["Accept-Ranges"] = "bytes"
    headers.write_metadata(response, version.metadata, "Object")
    manifest_headers(response, version)
    if version.manifest_kind == manifests.SLO:
        response["X-Manifest-Etag"] = ext_parts.manifest_etag(version)
    return response


def _multipart(
    pieces: list[manifests.Piece], ranges: list[tuple[int, int]], size: int, ctype: str
) -> StreamingHttpResponse:
    """A multipart/byteranges answer over a manifest's pieces."""
    boundary = secrets.token_hex(16)
    heads = [
        f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {s}-{e}/{size}\r\n\r\n".encode("latin-1")
        for s, e in ranges
    ]
    tail = f"--{boundary}--".encode()

    def body() -> Iterator[bytes]:
        for head, (start, end) in zip(heads, ranges, strict=True):
            yield head
            yield from manifests.stream(manifests.cut(pieces, start, end))
            yield b"\r\n"
        yield tail

    length = sum(len(h) + (e - s + 1) + 2 for h, (s, e) in zip(heads, ranges, strict=True)) + len(tail)
    response = StreamingHttpResponse(body(), status=206, content_type=f"multipart/byteranges;boundary={boundary}")
    response["Content-Length"] = str(length)
    return response


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


def put_slo(request: HttpRequest, caller: SwiftCaller, container: Container, name: str) -> HttpResponse:
    """`PUT ?multipart-manifest=put`: validate every segment, then store the manifest (201)."""
    if request.headers.get("If-None-Match", "").strip() == "*" and manifests.current_version(
        caller.project, container.name, name
    ):
        raise PreconditionFailed("A precondition for this request was not met.")
    items = _read_manifest_body(request)
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
    etag = manifests.slo_etag(entries)
    given = request.headers.get("ETag")
    if given and headers.strip_etag(given) != etag:
        raise UnprocessableEntity("Unable to process the contained instructions")
    attrs = objects.ObjectAttrs(
        content_type=headers.content_type(request, name),
        metadata={k: v for k, v in headers.read_metadata(request, "Object").items() if v},
        delete_at=headers.delete_at(request),
    )
    inline_blocks = [digest for entry in entries for digest in entry.get("blocks", [])]
    data = StoredData(hashmap=inline_blocks, size=0, etag=etag, block_size=container.block_size)
    version = manifests.put_manifest(
        container, name, data, attrs, kind=manifests.SLO, manifest=entries, actor=caller.actor
    )
    response = HttpResponse(status=201, content_type="text/html; charset=UTF-8")
    response["ETag"] = f'"{etag}"'
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    return response


def manifest_get(request: HttpRequest, version: ObjectVersion) -> HttpResponse:
    """`GET ?multipart-manifest=get` of an SLO: its segment list (`format=raw`: the PUT format)."""
    entries = version.manifest or []
    if request.GET.get("format") == "raw":
        listed: list[dict[str, Any]] = []
        for e in entries:
            if "data" in e:
                listed.append({"data": e["data"]})
                continue
            raw = {"path": e["name"], "etag": e["hash"], "size_bytes": e["bytes"]}
            if e.get("range"):
                raw["range"] = e["range"]
            listed.append(raw)
    else:
        listed = [{"data": e["data"]} if "data" in e else dict(e) for e in entries]
    body = json.dumps(listed).encode()
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type="application/json; charset=utf-8")
    response["Content-Length"] = str(len(body))
    response["ETag"] = hashlib.md5(body, usedforsecurity=False).hexdigest()
    response["X-Static-Large-Object"] = "True"
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    headers.write_metadata(response, version.metadata, "Object")
    return response


def delete_slo(request: HttpRequest, caller: SwiftCaller, container: Container, name: str) -> HttpResponse:
    """`DELETE ?multipart-manifest=delete`: the manifest and its segments, answered like a bulk delete."""
    version = objects.get_version(container, name)
    if version.manifest_kind != manifests.SLO:
        objects.delete_object(container, name, actor=caller.actor)
        return HttpResponse(status=204)
    deleted, missing, errors = manifests.delete_slo(caller.project, container, name, actor=caller.actor)
    result = {
        "Number Deleted": deleted,
        "Number Not Found": missing,
        "Response Status": "200 OK",
        "Response Body": "",
        "Errors": errors,
    }
    if "json" in request.headers.get("Accept", ""):
        return HttpResponse(json.dumps(result).encode(), content_type="application/json; charset=utf-8")
    text = "".join(f"{key}: {value}\n" for key, value in result.items() if key != "Errors") + "Errors:\n"
    return HttpResponse(text.encode(), content_type="text/plain; charset=utf-8")


def materialize(caller: SwiftCaller, source: ObjectVersion, target: Container) -> ObjectVersion:
    """The assembled content of a manifest stored as plain blocks (an unsaved version to copy from)."""
    chunks = manifests.stream(manifests.plan(caller.project, source))
    pending = b""

    def read(size: int) -> bytes:
        nonlocal pending
        while len(pending) < size:
            piece = next(chunks, b"")
            if not piece:
                break
            pending += piece
        head, pending = pending[:size], pending[size:]
        return head

    data = uploads.store_stream(read, block_size=target.block_size, length=None)
    return ObjectVersion(
        hashmap=data.hashmap,
        size=data.size,
        etag=data.etag,
        block_size=data.block_size,
        content_type=source.content_type,
        metadata=dict(source.metadata),
        modified_at=source.modified_at,
    )


def keep_manifest(source: ObjectVersion, copy: ObjectVersion) -> None:
    """A copy of a manifest (made with `multipart-manifest=get`) is itself the same manifest."""
    if source.manifest_kind and source.pk is not None:
        manifests.set_manifest(copy, source.manifest_kind, source.manifest)


def post_manifest(version: ObjectVersion, dlo: str | None) -> None:
    """POST sets a DLO's prefix with `X-Object-Manifest`, and without it turns a DLO back into plain content."""
    if dlo is not None and version.manifest_kind != manifests.SLO:
        manifests.set_manifest(version, manifests.DLO, dlo)
    elif dlo is None and version.manifest_kind == manifests.DLO:
        manifests.set_manifest(version, "", None)
