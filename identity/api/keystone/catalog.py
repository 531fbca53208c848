"""Catalog views, read-only: `/v3/services`, `/v3/endpoints` (admin) and `/v3/regions` (any token).

The catalog is seeded by `manage.py bootstrap`; managing it through the API is not needed.
Regions are the names endpoints carry; Keystone lets any authenticated user read them.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import KeystoneView, filter_query, get_or_404
from identity.models import Endpoint, Service
from portal.errors import NotFound


class ServicesView(KeystoneView):
    """`GET /v3/services` (filters: type, name)."""

    def get(self, request: Request) -> Response:
        """List services."""
        policy.require_admin(self.ctx(), "list_services")
        queryset = filter_query(request, Service.objects.all(), {"type": "type", "name": "name", "enabled": "enabled"})
        return Response(render.collection(request, "services", [render.service(request, s) for s in queryset]))


class ServiceView(KeystoneView):
    """`GET /v3/services/{service_id}`."""

    def get(self, request: Request, service_id: str) -> Response:
        """Show a service."""
        policy.require_admin(self.ctx(), "get_service")
        return Response({"service": render.service(request, get_or_404(Service, service_id, "service"))})


class EndpointsView(KeystoneView):
    """`GET /v3/endpoints` (filters: service_id, interface, region_id)."""

    def get(self, request: Request) -> Response:
        """List endpoints."""
        policy.require_admin(self.ctx(), "list_endpoints")
        queryset = filter_query(
            request,
            Endpoint.objects.order_by("service__type", "interface"),
            {"service_id": "service_id", "interface": "interface", "region_id": "region", "enabled": "enabled"},
        )
        return Response(render.collection(request, "endpoints", [render.endpoint(request, e) for e in queryset]))


class EndpointView(KeystoneView):
    """`GET /v3/endpoints/{endpoint_id}`."""

    def get(self, request: Request, endpoint_id: str) -> Response:
        """Show an endpoint."""
        policy.require_admin(self.ctx(), "get_endpoint")
        return Response({"endpoint": render.endpoint(request, get_or_404(Endpoint, endpoint_id, "endpoint"))})


def region_ids() -> list[str]:
    """Every region some endpoint is in."""
    return sorted(set(Endpoint.objects.values_list("region", flat=True)))


class RegionsView(KeystoneView):
    """`GET /v3/regions`."""

    def get(self, request: Request) -> Response:
        """List regions."""
        return Response(render.collection(request, "regions", [render.region(request, r) for r in region_ids()]))


class RegionView(KeystoneView):
    """`GET /v3/regions/{region_id}`."""

    def get(self, request: Request, region_id: str) -> Response:
        """Show a region."""
        if region_id not in region_ids():
            raise NotFound(f"Could not find region: {region_id}.")
        return Response({"region": render.region(request, region_id)})
