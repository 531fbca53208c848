"""The base of every Nova view: token, project scope, reader rule, microversion, and small helpers.

`NovaView` parses the microversion before anything else (400/406), then authenticates (401),
refuses unscoped tokens (403) and writes by reader-only tokens (403), and echoes the version
headers on every answer, errors included. Faults are Nova's (`{"itemNotFound": {...}}`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.cache import patch_vary_headers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import microversions
from compute.api.microversions import Version
from identity.api.keystone.base import _has_nul
from identity.api.keystone.render import base_url
from portal.api.openstack import FaultStyle, OpenStackView
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.observability.context import current_request_id

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class JSONOnly(BaseContentNegotiation):
    """Nova answers JSON whatever `Accept` says (openstacksdk sends an empty one with actions)."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        """The first parser that handles the request's content type (DRF's usual rule)."""
        content_type = request.content_type or ""
        return next((p for p in parsers if content_type.startswith(p.media_type)), None)

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """Always the JSON renderer."""
        return renderers[0], renderers[0].media_type


class NovaView(OpenStackView):
    """Base of the authenticated Nova views."""

    fault_style = FaultStyle.NOVA
    content_negotiation_class = JSONOnly
    api_version: Version = microversions.MIN
    # The first microversion a view exists at (older ones get Nova's 404 for an unknown resource).
    since: str | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Microversion first, then the token, the project scope and the reader rule."""
        self.api_version = microversions.parse(
            request.headers.get(microversions.HEADER), request.headers.get(microversions.LEGACY_HEADER)
        )
        super().initial(request, *args, **kwargs)
        ctx = self.ctx()
        if not ctx.project_id:
            raise Forbidden("A project-scoped token is required.")
        if request.method not in SAFE_METHODS and ctx.is_reader_only:
            raise Forbidden(f"Policy doesn't allow {request.method} by a reader to be performed.")
        if self.since is not None and not self.api_version.at_least(self.since):
            raise NotFound("The resource could not be found.")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Echo the microversion in both headers, and the request id as Nova names it."""
        response = super().finalize_response(request, response, *args, **kwargs)
        version = str(self.api_version)
        response[microversions.HEADER] = f"compute {version}"
        response[microversions.LEGACY_HEADER] = version
        # Nova's own name for the request id (tempest reads it to find a server's create action).
        response["X-Compute-Request-Id"] = current_request_id()
        patch_vary_headers(response, (microversions.HEADER, microversions.LEGACY_HEADER))
        return response

    @property
    def actor(self) -> Any:
        """The caller as services record it."""
        return self.request.user

    def v(self, change: str) -> bool:
        """Whether this request's microversion has the shape change `change`."""
        return self.api_version.at_least(change)

    def require_admin(self) -> None:
        """403 unless the token is an admin's."""
        if not self.ctx().is_admin:
            raise Forbidden("Policy doesn't allow this operation to be performed.")


def compute_root(request: HttpRequest) -> str:
    """`<public base>/compute`."""
    return f"{base_url(request)}/compute"


def links(request: HttpRequest, collection: str, object_id: str) -> list[dict[str, str]]:
    """Nova's self and bookmark links of an object."""
    root = compute_root(request)
    return [
        {"rel": "self", "href": f"{root}/v2.1/{collection}/{object_id}"},
        {"rel": "bookmark", "href": f"{root}/{collection}/{object_id}"},
    ]


def _utc(moment: datetime) -> datetime:
    """The naive UTC time of an aware datetime (stored ones are UTC already: no conversion)."""
    if moment.tzinfo is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """Nova's timestamps: `2024-01-02T03:04:05Z` (isoformat: strftime is ~10x slower per call)."""
    return _utc(moment).isoformat(timespec="seconds") + "Z" if moment is not None else None


def iso_usec(moment: datetime | None) -> str | None:
    """Nova's OS-SRV-USG timestamps: `2024-01-02T03:04:05.000000` (no zone)."""
    return _utc(moment).isoformat(timespec="microseconds") if moment is not None else None


def body_of(request: Request) -> dict[str, Any]:
    """The JSON body as an object (400 otherwise, and for NUL characters)."""
    data = request.data
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    if _has_nul(data):
        raise ValidationFailed("NUL characters are not allowed in the request body.")
    return data


def entity(request: Request, key: str) -> dict[str, Any]:
    """`body[key]`, which must be an object (Nova's message otherwise)."""
    data = body_of(request)
    if key not in data:
        raise ValidationFailed(f"Invalid input for field/attribute {key}. Value: None. '{key}' is a required property")
    if not isinstance(data[key], dict):
        raise ValidationFailed(f"Invalid input for field/attribute {key}. Value: {data[key]}. It is not an object")
    unknown = sorted(set(data) - {key})
    if unknown:
        listed = ", ".join(map(repr, unknown))
        raise ValidationFailed(f"Additional properties are not allowed ({listed} was unexpected)")
    return data[key]


def no_content(status: int = 204) -> Response:
    """An empty answer."""
    return Response(status=status)


def pagination(request: Request) -> tuple[int | None, str | None]:
    """Nova's `limit` (a non-negative integer; 0 or more than the maximum means the maximum) and `marker`."""
    raw = request.query_params.get("limit")
    limit = None
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationFailed("limit param must be an integer") from None
        if limit < 0:
            raise ValidationFailed("limit param must be positive")
    return limit, request.query_params.get("marker")


def next_link(request: Request, path: str, marker: str) -> list[dict[str, str]]:
    """The `*_links` block pointing at the page after `marker` (other query parameters kept)."""
    params = request.query_params.copy()
    params["marker"] = marker
    return [{"rel": "next", "href": f"{compute_root(request)}/v2.1/{path}?{params.urlencode()}"}]
