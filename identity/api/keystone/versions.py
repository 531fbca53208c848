"""Version discovery: `GET /identity` (300 Multiple Choices), `GET /identity/v3`, `GET /identity/v2.0`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone.base import PublicView
from identity.api.keystone.render import base_url

V3_UPDATED = "2020-04-07T00:00:00Z"
V2_UPDATED = "2016-08-04T00:00:00Z"


def v3_version(request: HttpRequest) -> dict[str, Any]:
    """The v3 entry of the versions document."""
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": V3_UPDATED,
        "links": [{"rel": "self", "href": f"{base_url(request)}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def v2_version(request: HttpRequest) -> dict[str, Any]:
    """The v2.0 entry: only `POST /v2.0/tokens` is served, for legacy clients."""
    return {
        "id": "v2.0",
        "status": "deprecated",
        "updated": V2_UPDATED,
        "links": [
            {"rel": "self", "href": f"{base_url(request)}/identity/v2.0/"},
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v2.0+json"}],
    }


class VersionsView(PublicView):
    """`GET /identity`: every API version served, with 300 Multiple Choices as Keystone answers."""

    def get(self, request: Request) -> Response:
        """List the versions."""
        return Response({"versions": {"values": [v3_version(request), v2_version(request)]}}, status=300)


class V3VersionView(PublicView):
    """`GET /identity/v3`: the v3 version document."""

    def get(self, request: Request) -> Response:
        """Describe v3."""
        return Response({"version": v3_version(request)})


class V2VersionView(PublicView):
    """`GET /identity/v2.0`: the v2.0 version document."""

    def get(self, request: Request) -> Response:
        """Describe v2.0."""
        return Response({"version": v2_version(request)})
