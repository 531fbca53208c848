"""CORS for Swift containers: `X-Container-Meta-Access-Control-Allow-Origin` and friends.

`OPTIONS` is answered without a token: a preflight from an allowed origin gets 200 with the
allowed methods and headers, any other preflight 401; an OPTIONS without `Origin` gets the
verbs in `Allow`. Actual requests from an allowed origin get `Access-Control-Allow-Origin` and
`Access-Control-Expose-Headers` (Swift's strict mode: only the container's origins count).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from identity.models import Project
from objectstore.api.auth import account_project
from objectstore.models import Container
from portal.errors import NotFound

ALLOWED_METHODS = "HEAD, GET, PUT, POST, COPY, OPTIONS, DELETE"
EXPOSED = (
    "cache-control, content-language, content-type, expires, last-modified, pragma, etag, x-timestamp, "
    "x-trans-id, x-openstack-request-id"
)


def _allowed_origin(container: Container | None, origin: str) -> str:
    """The Access-Control-Allow-Origin to answer ("*", the origin, or "" when not allowed)."""
    if container is None or not origin:
        return ""
    allowed = container.metadata.get("Access-Control-Allow-Origin", "").split()
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else ""


def _container(project: Project, cname: str) -> Container | None:
    return Container.objects.filter(project=project, name=cname).first() if cname else None


def preflight(request: HttpRequest, account: str, cname: str) -> HttpResponse:
    """Answer an OPTIONS request (no token needed)."""
    origin = request.headers.get("Origin", "")
    wanted = request.headers.get("Access-Control-Request-Method", "")
    if not origin:
        response = HttpResponse(status=200, content_type="text/html; charset=UTF-8")
        response["Allow"] = ALLOWED_METHODS
        return response
    try:
        container = _container(account_project(account), cname)
    except NotFound:
        container = None
    allow_origin = _allowed_origin(container, origin)
    if container is None or not allow_origin or wanted not in ALLOWED_METHODS.split(", "):
        return HttpResponse(status=401, content_type="text/html; charset=UTF-8")
    response = HttpResponse(status=200, content_type="text/html; charset=UTF-8")
    response["Access-Control-Allow-Origin"] = allow_origin
    response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    allow_headers = container.metadata.get("Access-Control-Allow-Headers") or request.headers.get(
        "Access-Control-Request-Headers", ""
    )
    if allow_headers:
        response["Access-Control-Allow-Headers"] = allow_headers
    max_age = container.metadata.get("Access-Control-Max-Age", "")
    if max_age.isdigit():
        response["Access-Control-Max-Age"] = max_age
    response["Allow"] = ALLOWED_METHODS
    return response


def decorate(request: HttpRequest, response: HttpResponseBase, project: Project | None, cname: str) -> None:
    """Add CORS headers to an actual request's answer when its Origin is allowed by the container."""
    origin = request.headers.get("Origin", "")
    if not origin or project is None or not cname:
        return
    container = _container(project, cname)
    allow_origin = _allowed_origin(container, origin)
    if container is None or not allow_origin:
        return
    response["Access-Control-Allow-Origin"] = allow_origin
    extra = container.metadata.get("Access-Control-Expose-Headers", "")
    meta = ", ".join(key.lower() for key in response.headers if key.lower().startswith("x-object-meta-"))
    response["Access-Control-Expose-Headers"] = ", ".join(part for part in (EXPOSED, meta, extra) if part)
