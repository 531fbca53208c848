"""Discovery: `GET /network` (versions, no token), `GET /network/v2.0` (resources), and the extensions list.

Only extensions whose attributes and behaviour are really served are listed: clients (and
tempest) switch features on what they find here.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.services.faults import not_found
from identity.api.keystone.base import PublicView
from identity.api.keystone.render import base_url

from .base import NeutronView

UPDATED = "2024-01-01T00:00:00-00:00"

RESOURCES = (
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("floatingip", "floatingips"),
    ("security_group", "security-groups"),
    ("security_group_rule", "security-group-rules"),
    ("quota", "quotas"),
)

EXTENSIONS: dict[str, tuple[str, str]] = {
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs"),
    "auto-allocated-topology": (
        "Auto Allocated Topology Services",
        "Auto Allocated Topology Services (a private network and subnet per project; no router).",
    ),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application"),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "net-mtu": ("Network MTU", "Provides MTU attribute for a network resource."),
    "net-mtu-writable": ("Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "port-security": ("Port Security", "Provides port security"),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks"),
    "quota_details": ("Quota details management support", "Expose functions for quotas usage statistics per project"),
    "quotas": ("Quota management support", "Expose functions for quotas management per project"),
    "security-group": ("security-group", "The security groups extension."),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard attributes"),
    "standard-attr-revisions": ("Resource revision numbers", "This extension will display the revision number of "
                                "neutron resources."),
    "standard-attr-timestamp": ("Resource timestamps", "Adds created_at and updated_at fields to all Neutron "
                                "resources that have Neutron standard attributes."),
    "stateful-security-group": ("Stateful security group", "Indicates if the security group is stateful or not"),
    "subnet-external-network": ("Subnet External Network", "Informs if the subnet is associated with a "
                                "router:external network"),
}  # fmt: skip


def _extension(alias: str) -> dict[str, Any]:
    name, description = EXTENSIONS[alias]
    return {"alias": alias, "name": name, "description": description, "updated": UPDATED, "links": []}


class VersionsView(PublicView):
    """`GET /network`: Neutron's versions list (no token needed)."""

    def get(self, request: Request) -> Response:
        """List the one API version."""
        href = f"{base_url(request)}/network/v2.0/"
        return Response({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}]})


class ResourcesView(PublicView):
    """`GET /network/v2.0`: the collections this API serves."""

    def get(self, request: Request) -> Response:
        """List the resources."""
        root = f"{base_url(request)}/network/v2.0"
        return Response(
            {
                "resources": [
                    {"name": name, "collection": collection, "links": [{"href": f"{root}/{collection}", "rel": "self"}]}
                    for name, collection in RESOURCES
                ]
            }
        )


class ExtensionsView(NeutronView):
    """`GET /v2.0/extensions`: the extensions really implemented."""

    def get(self, request: Request) -> Response:
        """List them."""
        return Response({"extensions": [_extension(alias) for alias in sorted(EXTENSIONS)]})


class ExtensionView(NeutronView):
    """`GET /v2.0/extensions/{alias}`: one extension, or 404."""

    def get(self, request: Request, alias: str) -> Response:
        """Show it."""
        if alias not in EXTENSIONS:
            raise not_found("extension", alias)
        return Response({"extension": _extension(alias)})
