"""Discovery without a token: `GET /volume/` (300, the versions) and `GET /volume/v3[/...]` (the one served).

Only v3 is served, at Cinder's base microversion 3.0 (`base.MAX_VERSION`): clients negotiate
from `version`/`min_version` and then use 3.0's shapes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response

from compute.volume.api.base import MAX_VERSION, MIN_VERSION, volume_root
from identity.api.keystone.base import PublicView

UPDATED = "2024-08-01T00:00:00Z"


def v3(request: HttpRequest) -> dict[str, Any]:
    """The v3 version entry."""
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": UPDATED,
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{volume_root(request)}/v3/"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


class VersionsView(PublicView):
    """`GET /volume/`: 300 Multiple Choices with the versions, as Cinder answers."""

    def get(self, request: Request, **kwargs: Any) -> Response:
        """List the versions (only v3)."""
        return Response({"versions": [v3(request)]}, status=300)


class VersionView(PublicView):
    """`GET /volume/v3/` (and `/volume/v3/{project_id}`): the v3 document, 200."""

    def get(self, request: Request, **kwargs: Any) -> Response:
        """Describe v3."""
        return Response({"versions": [v3(request)]})
