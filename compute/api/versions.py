"""Discovery without a token: `GET /compute` (the versions) and `GET /compute/v2.1` (the one served).

`version` is the highest microversion implemented (microversions.MAX); clients negotiate from it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import microversions
from compute.api.base import compute_root
from identity.api.keystone.base import PublicView

UPDATED = "2013-07-23T11:33:21Z"


def v21(request: HttpRequest, *, detail: bool) -> dict[str, Any]:
    """The v2.1 version entry (`detail` adds the media types, as Nova's single-version document does)."""
    version: dict[str, Any] = {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(microversions.MAX),
        "min_version": str(microversions.MIN),
        "updated": UPDATED,
        "links": [
            {"rel": "self", "href": f"{compute_root(request)}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        ],
    }
    if detail:
        version["media-types"] = [
            {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
        ]
    return version


class VersionsView(PublicView):
    """`GET /compute/`: the API versions."""

    def get(self, request: Request) -> Response:
        """List the versions (only v2.1 is served)."""
        return Response({"versions": [v21(request, detail=False)]})


class VersionView(PublicView):
    """`GET /compute/v2.1`: the v2.1 version document, with its microversion range."""

    def get(self, request: Request) -> Response:
        """Describe v2.1."""
        return Response({"version": v21(request, detail=True)})
