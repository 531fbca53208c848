"""Swift account requests: HEAD (usage), GET (container listing), POST (metadata)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from objectstore import limits
from objectstore.api import ext_bulk, ext_quota, headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.listing import listing_query, render_listing
from objectstore.services import containers, listing


def _account_headers(response: HttpResponse, caller: SwiftCaller) -> HttpResponse:
    usage = containers.account_usage(caller.project)
    response["X-Account-Container-Count"] = str(usage.containers)
    response["X-Account-Object-Count"] = str(usage.objects)
    response["X-Account-Bytes-Used"] = str(usage.bytes)
    response["X-Timestamp"] = headers.timestamp(containers.account_created(caller.project))
    headers.write_metadata(response, containers.account_metadata(caller.project), "Account")
    return response


def head(request: HttpRequest, caller: SwiftCaller, account: str) -> HttpResponse:
    """Account usage and metadata."""
    return _account_headers(headers.empty_204("text/plain; charset=utf-8"), caller)


def get(request: HttpRequest, caller: SwiftCaller, account: str) -> HttpResponse:
    """The account's containers, one page."""
    query = listing_query(request, limits.ACCOUNT_LISTING_LIMIT)
    rows = listing.list_containers(caller.project, query)
    return _account_headers(render_listing(request, "account", account, rows), caller)


def post(request: HttpRequest, caller: SwiftCaller, account: str) -> HttpResponse:
    """Set or remove account metadata (or, with `?bulk-delete`, delete many objects and containers)."""
    if "bulk-delete" in request.GET:
        return ext_bulk.bulk_delete(request, caller)
    metadata = headers.read_metadata(request, "Account")
    ext_quota.check_account_metadata(request, caller, metadata)
    containers.update_account(caller.project, metadata=metadata, actor=caller.actor)
    return HttpResponse(status=204)


HANDLERS = {"HEAD": head, "GET": get, "POST": post}
