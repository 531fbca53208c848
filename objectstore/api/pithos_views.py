"""The Pithos layer in front of the Swift entry point: hashmaps, versions, sharing, groups, public, MOVE.

`pithos_view` serves the Pithos extensions itself and hands every other request to Swift's
`swift_view` unchanged. Around a Swift answer it adds Pithos headers on HEAD, applies
`X-Object-Sharing` / `X-Object-Public` / `X-Container-Policy-Versioning` / `X-Account-Group-*`
after a successful write (each checked before the write), and, when Swift refuses a foreign
account (403), lets users an object is shared with read or write it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from objectstore.api import pithos_account as acct
from objectstore.api import pithos_handlers as handlers
from objectstore.api.errors import add_auth_challenge, domain_error_response
from objectstore.api.views import split_path, swift_view
from objectstore.blocks import BlockError
from objectstore.services import reading
from portal.errors import DomainError

OBJECT_EXTRA_HEADERS = ("HTTP_X_OBJECT_SHARING", "HTTP_X_OBJECT_PUBLIC")
GROUP_HEADER = "HTTP_X_ACCOUNT_GROUP_"


def _object(request: HttpRequest, rest: str, account: str, cname: str, name: str) -> HttpResponseBase:
    """Object requests: Pithos queries and verbs, else Swift plus sharing and public hooks."""
    method = request.method or "GET"
    query = request.GET
    if method in ("GET", "HEAD") and ("hashmap" in query or "version" in query):
        return handlers.read_special(request, account, cname, name)
    if method == "PUT" and "hashmap" in query:
        return handlers.put_hashmap(request, account, cname, name)
    if method == "MOVE" or (method == "PUT" and "HTTP_X_MOVE_FROM" in request.META):
        return handlers.move(request, account, cname, name)
    if method == "POST" and "HTTP_X_SOURCE_VERSION" in request.META:
        return handlers.restore(request, account, cname, name)
    extras = [key for key in OBJECT_EXTRA_HEADERS if key in request.META]
    if method == "POST" and extras and not handlers.has_swift_post_headers(request):
        return handlers.post_extras(request, account, cname, name)
    pending = None
    if extras and method in ("PUT", "POST"):
        pending = handlers.check_object_extras(request, account, cname, name)
    response = swift_view(request, rest)
    if response.status_code == 403:
        response = handlers.shared_access(request, account, cname, name, response)
    if pending is not None and response.status_code in (201, 202):
        handlers.apply_object_extras(request, pending)
    elif method == "HEAD" and response.status_code == 200:
        handlers.add_object_headers(request, response, account, cname, name)
    elif method == "DELETE" and response.status_code == 204:
        handlers.forget_object(account, cname, name)
    return response


def _container(request: HttpRequest, rest: str, account: str, cname: str) -> HttpResponseBase:
    """Container requests: `?shared` listings, raw block uploads, the versioning policy header."""
    method = request.method or "GET"
    if method == "GET" and "shared" in request.GET:
        return acct.shared_in_container(request, account, cname)
    if method == "POST" and "update" in request.GET and acct.is_block_upload(request):
        return acct.upload_blocks(request, account, cname)
    policy = acct.check_policy(request) if method in ("PUT", "POST") else None
    response = swift_view(request, rest)
    if policy is not None and response.status_code in (201, 202, 204):
        acct.apply_policy(request, account, cname, policy)
    elif method == "HEAD" and response.status_code == 204:
        acct.add_container_headers(response, account, cname)
    return response


def _account(request: HttpRequest, rest: str, account: str) -> HttpResponseBase:
    """Account requests: `?shared` listings and `X-Account-Group-*` (set on POST, shown on HEAD)."""
    method = request.method or "GET"
    if method == "GET" and "shared" in request.GET:
        return acct.shared_accounts(request, account)
    groups = None
    if method == "POST" and any(key.startswith(GROUP_HEADER) for key in request.META):
        groups = acct.check_groups(request, account)
    response = swift_view(request, rest)
    if groups is not None and response.status_code == 204:
        acct.apply_groups(request, account, groups)
    elif method == "HEAD" and response.status_code == 204:
        acct.add_account_headers(response, account)
    return response


@csrf_exempt
def pithos_view(request: HttpRequest, rest: str = "") -> HttpResponseBase:
    """Serve any `/v1/...` request: Pithos extensions here, the rest through Swift's view."""
    method = request.method or "GET"
    try:
        account, cname, name = split_path(request)
        if name:
            response = _object(request, rest, account, cname, name)
        elif cname:
            response = _container(request, rest, account, cname)
        else:
            response = _account(request, rest, account)
    except DomainError as exc:
        response = domain_error_response(exc, method=method)
    except BlockError as exc:
        response = domain_error_response(reading.unavailable(exc), method=method)
    add_auth_challenge(request, response)
    response["X-Trans-Id"] = getattr(request, "request_id", "")
    return response
