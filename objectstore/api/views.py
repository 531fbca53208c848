"""The one Swift entry point: splits `/v1/<account>/<container>/<object>`, authorizes, dispatches.

Names come from Django's decoded path. Bytes that are not UTF-8 (seen in the raw request target
that gunicorn passes as RAW_URI) and NULs answer 412 as in Swift, and so does a path that is not
`/v1/<account>...` ("Bad URL"). Every answer, errors included, carries X-Trans-Id
(X-Openstack-Request-Id, same value, comes from the middleware); a 401 names Swift's realm.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from objectstore.api import account, container, ext_cors, ext_tempurl, obj
from objectstore.api.auth import authorize
from objectstore.api.errors import add_auth_challenge, domain_error_response, error_response
from objectstore.api.headers import InvalidName, check_header_sizes
from objectstore.blocks import BlockError
from objectstore.services import reading
from portal.errors import DomainError, NotFound

PREFIX = "/v1/"


def split_path(request: HttpRequest) -> tuple[str, str, str]:
    """(account, container, object) from the raw path; empty strings for the parts it lacks."""
    path = request.path_info
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or ""
    try:
        unquote_to_bytes(raw.partition("?")[0]).decode("utf-8")
    except UnicodeError:
        raise InvalidName("Invalid UTF8 or contains NULL") from None
    if "\x00" in path:
        raise InvalidName("Invalid UTF8 or contains NULL")
    if not path.startswith(PREFIX):
        raise InvalidName("Bad URL")
    account_name, _, rest = path[len(PREFIX) :].partition("/")
    container_name, _, object_name = rest.partition("/")
    if not account_name or (object_name and not container_name):
        raise NotFound("The resource could not be found.")
    return account_name, container_name, object_name


def _not_allowed(allowed: dict) -> HttpResponse:
    response = error_response(405)
    response["Allow"] = ", ".join(sorted(allowed))
    return response


def _dispatch(request: HttpRequest) -> HttpResponseBase:
    account_name, container_name, object_name = split_path(request)
    check_header_sizes(request)
    if request.method == "OPTIONS":
        return ext_cors.preflight(request, account_name, container_name)
    tempurl = bool(object_name) and ext_tempurl.is_tempurl(request)
    if tempurl:
        caller = ext_tempurl.authorize(request, account_name, container_name, object_name)
    else:
        caller = authorize(request, account_name, container_name, object_name)
    if object_name:
        handler = obj.HANDLERS.get(request.method or "")
        args = (account_name, container_name, object_name)
        allowed = obj.HANDLERS
    elif container_name:
        handler = container.HANDLERS.get(request.method or "")
        args = (account_name, container_name)
        allowed = container.HANDLERS
    else:
        handler = account.HANDLERS.get(request.method or "")
        args = (account_name,)
        allowed = account.HANDLERS
    if handler is None:
        return _not_allowed(allowed)
    response = handler(request, caller, *args)
    if tempurl:
        ext_tempurl.decorate(request, response, object_name)
    ext_cors.decorate(request, response, caller.project, container_name)
    return response


@csrf_exempt
def swift_view(request: HttpRequest, rest: str = "") -> HttpResponseBase:
    """Serve any Swift v1 request; domain errors become Swift's status codes and bodies."""
    method = request.method or "GET"
    try:
        response = _dispatch(request)
    except DomainError as exc:
        response = domain_error_response(exc, method=method)
    except BlockError as exc:
        response = domain_error_response(reading.unavailable(exc), method=method)
    add_auth_challenge(request, response)
    response["X-Trans-Id"] = getattr(request, "request_id", "")
    return response
