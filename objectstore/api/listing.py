"""Listing parameters and the three listing formats (plain, json, xml) of Swift."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpRequest, HttpResponse

from objectstore.api.headers import empty_204, listing_time
from objectstore.services.listing import ListingQuery, Subdir
from portal.errors import ValidationFailed

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}


class LimitTooLarge(ValidationFailed):
    """A listing limit above the advertised maximum (Swift answers 412)."""

    status = 412
    title = "Precondition Failed"


def _param(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name, "")
    if "\x00" in value:
        raise ValidationFailed(f"Invalid {name}")
    if len(value) > 4096:
        raise ValidationFailed(f"{name} too long")
    return value


def listing_query(request: HttpRequest, max_limit: int) -> ListingQuery:
    """Parse prefix, delimiter, marker, end_marker, limit and reverse (400/412 when invalid)."""
    raw_limit = request.GET.get("limit", "")
    limit = max_limit
    if raw_limit != "":
        if not (raw_limit.isascii() and raw_limit.isdigit()) or len(raw_limit) > 12:
            raise ValidationFailed("Value of limit must be a positive integer")
        limit = int(raw_limit)
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
    return {
        "name": row["name"],
        "hash": row["hash"],
        "bytes": row["bytes"],
        "content_type": row["content_type"],
        "last_modified": listing_time(row["last_modified"]),
    }


def _container_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "count": row["count"] or 0,
        "bytes": row["bytes"] or 0,
        "last_modified": listing_time(row["last_modified"]),
    }


def _xml(kind: str, owner: str, entries: list[dict[str, Any] | Subdir]) -> str:
    item = "object" if kind == "container" else "container"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{kind} name={quoteattr(owner)}>"]
    for entry in entries:
        if isinstance(entry, Subdir):
            lines.append(f"<subdir name={quoteattr(entry.name)}><name>{escape(entry.name)}</name></subdir>")
            continue
        fields = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in entry.items())
        lines.append(f"<{item}>{fields}</{item}>")
    lines.append(f"</{kind}>")
    return "\n".join(lines)


def render_listing(request: HttpRequest, kind: str, owner: str, rows: list[dict[str, Any] | Subdir]) -> HttpResponse:
    """The listing response of an account (`kind="account"`) or a container (`kind="container"`)."""
    fmt = listing_format(request)
    convert = _object_entry if kind == "container" else _container_entry
    entries: list[dict[str, Any] | Subdir] = [row if isinstance(row, Subdir) else convert(row) for row in rows]
    if fmt == "plain" and not entries:
        return empty_204(CONTENT_TYPES["plain"])
    if fmt == "json":
        body = json.dumps([{"subdir": e.name} if isinstance(e, Subdir) else e for e in entries], ensure_ascii=False)
    elif fmt == "xml":
        body = _xml(kind, owner, entries)
    else:
        body = "".join((e.name if isinstance(e, Subdir) else e["name"]) + "\n" for e in entries)
    return HttpResponse(body.encode("utf-8"), content_type=CONTENT_TYPES[fmt])
