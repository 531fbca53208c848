"""Listing parameters and the three listing formats (plain, json, xml) of Swift.

Parameters follow Swift's proxy: a `limit` that is not a number is ignored (the maximum applies),
one above the maximum is 412; markers may hold a NUL. The XML documents are built like Swift's
(`listing_formats`): no whitespace between a container listing's elements, account entries
carry `storage_policy`. A static large object is listed with its assembled size, the MD5 of its
manifest document as `hash` and its own ETag as `slo_etag`, as Swift's container updates record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.http import HttpRequest, HttpResponse

from objectstore.api.headers import empty_204, listing_time
from objectstore.services import manifests
from objectstore.services.listing import ListingQuery, Subdir
from portal.errors import ValidationFailed

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}
STORAGE_POLICY = "default"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
XML_OBJECT_FIELDS = ("name", "hash", "bytes", "content_type", "last_modified")


class LimitTooLarge(ValidationFailed):
    """A listing limit above the advertised maximum (Swift answers 412)."""

    status = 412
    title = "Precondition Failed"


def _param(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name, "")
    if len(value) > 4096:
        raise ValidationFailed(f"{name} too long")
    return value


def listing_query(request: HttpRequest, max_limit: int) -> ListingQuery:
    """Parse prefix, delimiter, marker, end_marker, limit, reverse and path (412 for a limit too large)."""
    raw_limit = request.GET.get("limit", "")
    limit = max_limit
    if raw_limit.isascii() and raw_limit.isdigit():
        limit = int(raw_limit) if len(raw_limit) <= 12 else max_limit + 1
        if limit > max_limit:
            raise LimitTooLarge(f"Maximum limit is {max_limit}")
    reverse = request.GET.get("reverse", "").lower() in ("true", "1", "yes", "on", "t", "y")
    return ListingQuery(
        prefix=_param(request, "prefix"),
        delimiter=_param(request, "delimiter"),
        marker=_param(request, "marker"),
        end_marker=_param(request, "end_marker"),
        limit=limit,
        reverse=reverse,
        path=_param(request, "path") if "path" in request.GET else None,
    )


def listing_format(request: HttpRequest) -> str:
    """json, xml or plain: from `format`, else from the Accept header."""
    given = request.GET.get("format", "").lower()
    if given in CONTENT_TYPES:
        return given
    if given:
        return "plain"
    accept = request.headers.get("Accept", "").lower()
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"


def _object_entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "name": row["name"],
        "hash": row["hash"],
        "bytes": row["bytes"],
        "content_type": row["content_type"],
        "last_modified": listing_time(row["last_modified"]),
    }
    if row.get("manifest_kind") == manifests.SLO:
        stored = row.get("manifest") or []
        document = manifests.manifest_document(stored)
        entry["hash"] = hashlib.md5(document, usedforsecurity=False).hexdigest()
        entry["bytes"] = sum(manifests.entry_length(e) for e in stored)
        entry["slo_etag"] = f'"{row["hash"]}"'
    return entry


def _container_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "count": row["count"] or 0,
        "bytes": row["bytes"] or 0,
        "last_modified": listing_time(row["last_modified"]),
        "storage_policy": STORAGE_POLICY,
    }


def _xml(kind: str, owner: str, entries: list[dict[str, Any] | Subdir]) -> bytes:
    """Swift's XML listing document (account entries one a line, container entries run together)."""
    doc = Element(kind, name=owner)
    if kind == "account":
        doc.text = "\n"
    item = "object" if kind == "container" else "container"
    for entry in entries:
        if isinstance(entry, Subdir):
            sub = SubElement(doc, "subdir", name=entry.name)
            if kind == "container":
                SubElement(sub, "name").text = entry.name
        else:
            sub = SubElement(doc, item)
            for key in XML_OBJECT_FIELDS if kind == "container" else entry:
                SubElement(sub, key).text = str(entry[key])
        if kind == "account":
            sub.tail = "\n"
    return XML_DECLARATION + tostring(doc, encoding="unicode").encode("utf-8")


def render_listing(request: HttpRequest, kind: str, owner: str, rows: list[dict[str, Any] | Subdir]) -> HttpResponse:
    """The listing response of an account (`kind="account"`) or a container (`kind="container"`)."""
    fmt = listing_format(request)
    convert = _object_entry if kind == "container" else _container_entry
    entries: list[dict[str, Any] | Subdir] = [row if isinstance(row, Subdir) else convert(row) for row in rows]
    if fmt == "plain" and not entries:
        return empty_204(CONTENT_TYPES["plain"])
    if fmt == "json":
        body = json.dumps([{"subdir": e.name} if isinstance(e, Subdir) else e for e in entries]).encode()
    elif fmt == "xml":
        body = _xml(kind, owner, entries)
    else:
        body = "".join((e.name if isinstance(e, Subdir) else e["name"]) + "\n" for e in entries).encode("utf-8")
    return HttpResponse(body, content_type=CONTENT_TYPES[fmt])
