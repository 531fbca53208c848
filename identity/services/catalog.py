"""The service catalog: seeded by bootstrap, rendered per token with the public URL and project."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from identity.models import Endpoint, Service

PUBLIC = "$(public_url)s"
PROJECT = "$(project_id)s"

# type -> (name, path under the public URL); paths follow DESIGN.md's URL layout.
DEFAULT_SERVICES: dict[str, tuple[str, str]] = {
    "identity": ("keystone", "/identity/v3"),
    "compute": ("nova", "/compute/v2.1"),
    "image": ("glance", "/image"),
    "volumev3": ("cinderv3", f"/volume/v3/{PROJECT}"),
    "block-storage": ("cinder", f"/volume/v3/{PROJECT}"),
    "network": ("neutron", "/network"),
    "object-store": ("swift", f"/v1/AUTH_{PROJECT}"),
}


@transaction.atomic
def seed_catalog(region: str) -> int:
    """Create or update every default service with public/internal/admin endpoints (idempotent)."""
    count = 0
    for service_type, (name, path) in DEFAULT_SERVICES.items():
        service, _ = Service.objects.update_or_create(type=service_type, defaults={"name": name, "enabled": True})
        for interface in Endpoint.Interface.values:
            Endpoint.objects.update_or_create(
                service=service, interface=interface, region=region, defaults={"url": f"{PUBLIC}{path}"}
            )
            count += 1
    return count


def public_url(request_base: str) -> str:
    """PORTAL_PUBLIC_URL if set, else the base URL the request came to (scheme://host[:port])."""
    return settings.PORTAL_PUBLIC_URL or request_base.rstrip("/")


def render_url(template: str, base: str, project_id: str | None) -> str:
    """Fill the placeholders of an endpoint URL."""
    url = template.replace(PUBLIC, base)
    if PROJECT in url:
        url = url.replace(PROJECT, project_id or "")
    return url


def catalog_for(project_id: str | None, base: str) -> list[dict[str, Any]]:
    """The catalog as Keystone v3 returns it in a token; endpoints needing a project are left out
    of unscoped tokens."""
    result = []
    services = Service.objects.filter(enabled=True).prefetch_related("endpoints")
    for service in services:
        endpoints = []
        for ep in service.endpoints.all():
            if not ep.enabled or (PROJECT in ep.url and not project_id):
                continue
            endpoints.append(
                {
                    "id": ep.id,
                    "interface": ep.interface,
                    "region": ep.region,
                    "region_id": ep.region,
                    "url": render_url(ep.url, base, project_id),
                }
            )
        result.append({"id": service.id, "type": service.type, "name": service.name, "endpoints": endpoints})
    return result
