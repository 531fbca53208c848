"""Swift temp URLs: `?temp_url_sig=...&temp_url_expires=...` grants one method on one object, no token.

Keys come from `X-Account-Meta-Temp-URL-Key`(-2) and `X-Container-Meta-Temp-URL-Key`(-2). The
signature is an HMAC (SHA-1, SHA-256 or SHA-512; hex, or `<digest>:<base64>`) over
`METHOD\\nEXPIRES\\nPATH` (or `prefix:PATH-PREFIX` with `temp_url_prefix`). HEAD is allowed by a
signature for GET, HEAD or PUT. `filename` and `inline` shape the Content-Disposition of a GET.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import time
from urllib.parse import quote

from django.http import HttpRequest, HttpResponseBase

from identity.models import Project
from objectstore.api.auth import SwiftCaller, account_project
from objectstore.models import Container
from objectstore.services import containers
from portal.errors import NotFound, Unauthorized

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
KEY_NAMES = ("Temp-Url-Key", "Temp-Url-Key-2")
DENIED = "Temp URL invalid"


def is_tempurl(request: HttpRequest) -> bool:
    """Whether the request carries temp URL parameters."""
    return "temp_url_sig" in request.GET or "temp_url_expires" in request.GET


def _expires(value: str) -> int:
    """`temp_url_expires` as epoch seconds (integer or ISO 8601 `YYYY-MM-DDTHH:MM:SSZ`)."""
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError as exc:
        raise Unauthorized(DENIED) from exc


def _signature(value: str) -> tuple[str, bytes]:
    """(digest name, raw signature bytes) from a hex or `<digest>:<base64>` signature."""
    try:
        if ":" in value:
            name, _, encoded = value.partition(":")
            if name not in DIGESTS:
                raise Unauthorized(DENIED)
            padded = encoded + "=" * (-len(encoded) % 4)
            return name, base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        name = HEX_LENGTHS.get(len(value))
        if name is None:
            raise Unauthorized(DENIED)
        return name, bytes.fromhex(value)
    except (ValueError, binascii.Error) as exc:
        raise Unauthorized(DENIED) from exc


def _keys(project: Project, container: Container | None) -> list[tuple[bytes, str | None]]:
    """The account's keys (scope None) and the container's keys (scoped to that container)."""
    metadata = containers.account_metadata(project)
    keys: list[tuple[bytes, str | None]] = [(metadata[n].encode(), None) for n in KEY_NAMES if metadata.get(n)]
    if container is not None:
        keys += [(container.metadata[n].encode(), container.name) for n in KEY_NAMES if container.metadata.get(n)]
    return keys


def authorize(request: HttpRequest, account: str, cname: str, oname: str) -> SwiftCaller:
    """A caller for a valid temp URL request (401 for a bad, expired or foreign signature)."""
    method = request.method or "GET"
    raw_sig, raw_expires = request.GET.get("temp_url_sig", ""), request.GET.get("temp_url_expires", "")
    if method not in METHODS or not raw_sig or not raw_expires or not oname:
        raise Unauthorized(DENIED)
    expires = _expires(raw_expires)
    if expires < time.time():
        raise Unauthorized(DENIED)
    digest_name, signature = _signature(raw_sig)
    try:
        project = account_project(account)
    except NotFound as exc:
        raise Unauthorized(DENIED) from exc
    container = Container.objects.filter(project=project, name=cname).first()
    prefix = request.GET.get("temp_url_prefix")
    path = request.path_info
    if prefix is not None:
        if not oname.startswith(prefix):
            raise Unauthorized(DENIED)
        path = "prefix:" + f"/v1/{account}/{cname}/{prefix}"
    methods = ("GET", "HEAD", "PUT") if method == "HEAD" else (method,)
    for key, scope in _keys(project, container):
        for signed in methods:
            body = f"{signed}\n{expires}\n{path}".encode()
            if hmac.compare_digest(hmac.new(key, body, DIGESTS[digest_name]).digest(), signature):
                return SwiftCaller(ctx=None, project=project, actor=None, tempurl=True, container_scope=scope)
    raise Unauthorized(DENIED)


def decorate(request: HttpRequest, response: HttpResponseBase, oname: str) -> None:
    """Content-Disposition of a successful temp URL GET/HEAD."""
    if request.method not in ("GET", "HEAD") or response.status_code >= 300:
        return
    filename = request.GET.get("filename") or oname.rsplit("/", 1)[-1]
    quoted = quote(filename, safe="")
    if "inline" in request.GET:
        value = "inline" if "filename" not in request.GET else f'inline; filename="{quoted}"'
    else:
        value = f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{quoted}"
    response["Content-Disposition"] = value
