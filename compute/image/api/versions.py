"""Version discovery: `GET /image` (300 Multiple Choices, no token), as keystoneauth expects.

Clients find the Glance endpoint `/image` in the catalog, fetch this document, pick the highest
CURRENT/SUPPORTED 2.x version and use its `self` link (`/image/v2/`) as the API root. v2.7 is
the level served: images with os_hidden and multihash (os_hash_algo/os_hash_value); no
interoperable import (`/v2/info/import` lists no methods) and no multiple stores.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone.base import PublicView
from identity.api.keystone.render import base_url

CURRENT = "2.7"
SUPPORTED = ("2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def versions(request: HttpRequest) -> list[dict[str, Any]]:
    """Every version served, newest first; all share the `/image/v2/` root."""
    href = f"{base_url(request)}/image/v2/"

    def entry(version: str, status: str) -> dict[str, Any]:
        return {"id": f"v{version}", "status": status, "links": [{"rel": "self", "href": href}]}

    return [entry(CURRENT, "CURRENT"), *(entry(v, "SUPPORTED") for v in SUPPORTED)]


class VersionsView(PublicView):
    """`GET /image`, `/image/` and `/image/v2[/]`: 300 with the versions (Glance's negotiation)."""

    def get(self, request: Request) -> Response:
        """List the versions."""
        return Response({"versions": versions(request)}, status=300)


class ExplicitVersionsView(PublicView):
    """`GET /image/versions`: the same document with 200."""

    def get(self, request: Request) -> Response:
        """List the versions."""
        return Response({"versions": versions(request)})
