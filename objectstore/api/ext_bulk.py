"""Swift's bulk delete: `POST /v1/AUTH_x?bulk-delete` with a newline-separated list of paths.

Each line is a URL-encoded `/container/object` or `/container`. The answer is always 200; its
body (plain text, or JSON when the client accepts it) reports Number Deleted, Number Not Found,
the overall Response Status and the Errors as `[path, status]` pairs, as Swift's middleware does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse

from objectstore.api.auth import SwiftCaller
from objectstore.services import containers, objects
from portal.errors import Conflict, NotFound

MAX_DELETES_PER_REQUEST = 10000
MAX_FAILED_DELETES = 1000
MAX_PATH_LENGTH = 256 + 1024 + 2


def _paths(request: HttpRequest) -> list[str] | None:
    """The decoded paths of the body (None when it holds more than the allowed number)."""
    raw = request.read(MAX_DELETES_PER_REQUEST * (MAX_PATH_LENGTH + 1) + 1)
    paths = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if line:
            paths.append(unquote(line))
        if len(paths) > MAX_DELETES_PER_REQUEST:
            return None
    return paths


def _delete_one(caller: SwiftCaller, path: str) -> str:
    """Delete one path; returns "deleted", "missing", or an HTTP status line for an error."""
    cname, _, oname = path.lstrip("/").partition("/")
    if not cname or "\x00" in path or len(path) > MAX_PATH_LENGTH:
        return "400 Bad Request"
    try:
        if oname:
            objects.delete_object(containers.get_container(caller.project, cname), oname, actor=caller.actor)
        else:
            containers.delete_container(caller.project, cname, actor=caller.actor)
    except NotFound:
        return "missing"
    except Conflict:
        return "409 Conflict"
    return "deleted"


def bulk_delete(request: HttpRequest, caller: SwiftCaller) -> HttpResponse:
    """Delete every listed path and report the outcome in Swift's format."""
    result: dict[str, Any] = {"Number Deleted": 0, "Number Not Found": 0, "Response Body": "", "Errors": []}
    paths = _paths(request)
    if not paths:
        result["Response Status"] = "400 Bad Request"
        result["Response Body"] = (
            "Invalid bulk delete." if paths is not None else f"Max delete is {MAX_DELETES_PER_REQUEST} per request"
        )
        return _render(request, result)
    for path in paths:
        outcome = _delete_one(caller, path)
        if outcome == "deleted":
            result["Number Deleted"] += 1
        elif outcome == "missing":
            result["Number Not Found"] += 1
        else:
            result["Errors"].append([path, outcome])
            if len(result["Errors"]) >= MAX_FAILED_DELETES:
                break
    result["Response Status"] = "400 Bad Request" if result["Errors"] else "200 OK"
    return _render(request, result)


def _render(request: HttpRequest, result: dict[str, Any]) -> HttpResponse:
    """The result as JSON, XML or plain text, following the Accept header."""
    accept = request.headers.get("Accept", "")
    if "json" in accept:
        return HttpResponse(json.dumps(result).encode(), content_type="application/json; charset=utf-8")
    if "xml" in accept:
        fields = "".join(
            f"<{key.lower().replace(' ', '_')}>{escape(str(value))}</{key.lower().replace(' ', '_')}>"
            for key, value in result.items()
            if key != "Errors"
        )
        errors = "".join(
            f"<object><name>{escape(name)}</name><status>{escape(status)}</status></object>"
            for name, status in result["Errors"]
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<delete>{fields}<errors>{errors}</errors></delete>'
        return HttpResponse(body.encode(), content_type="application/xml; charset=utf-8")
    lines = [f"{key}: {value}" for key, value in result.items() if key != "Errors"]
    lines.append("Errors:")
    lines.extend(f"{name}, {status}" for name, status in result["Errors"])
    return HttpResponse(("\n".join(lines) + "\n").encode(), content_type="text/plain; charset=utf-8")
