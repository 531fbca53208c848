"""Swift's error answers: short HTML (or plain text) bodies and Swift's status codes.

Domain errors from the services are mapped here, once, for every Swift view.
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from objectstore.errors import RangeNotSatisfiable
from portal.errors import DomainError

# Swift's stock bodies for statuses whose message a client never needs to read.
STOCK: dict[int, tuple[str, str]] = {
    401: (
        "Unauthorized",
        "This server could not verify that you are authorized to access the document you requested.",
    ),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Length Required"),
    412: ("Precondition Failed", "A precondition for this request was not met."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
    503: ("Service Unavailable", "The server is currently unavailable. Please try again at a later time."),
}
HTML = "text/html; charset=UTF-8"
# Statuses whose body is the specific message (Swift answers these in plain text).
PLAIN = {400, 412, 413, 499, 501}


def error_response(status: int, message: str = "", *, method: str = "GET", content_type: str = "") -> HttpResponse:
    """A Swift-style error response (no body for HEAD); `content_type` overrides the usual one."""
    if status in PLAIN and message:
        body, ctype = message, "text/plain; charset=UTF-8"
    else:
        title, text = STOCK.get(status, ("Error", message or "An error occurred."))
        if status == 503 and message and message != title:
            text = message  # say why (e.g. a block failed its integrity check), not just "try again"
        body, ctype = f"<html><h1>{title}</h1><p>{text}</p></html>", HTML
    response = HttpResponse(
        b"" if method == "HEAD" else body.encode(), status=status, content_type=content_type or ctype
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Keystone uri="/identity"'
    return response


def domain_error_response(exc: DomainError, *, method: str) -> HttpResponse:
    """The Swift answer for a domain error raised by a service or a parser."""
    response = error_response(exc.status, exc.message, method=method, content_type=getattr(exc, "content_type", ""))
    if isinstance(exc, RangeNotSatisfiable):
        response["Content-Range"] = f"bytes */{exc.size}"
    return response


def add_auth_challenge(request: HttpRequest, response: HttpResponseBase) -> None:
    """Name the Swift realm (the quoted account) next to Keystone's in a 401's WWW-Authenticate, as Swift does."""
    if response.status_code != 401:
        return
    account = request.path_info.removeprefix("/v1/").partition("/")[0]
    response["WWW-Authenticate"] = f'Keystone uri="/identity", Swift realm="{quote(account)}"'
