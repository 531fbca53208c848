"""Neutron URLs, mounted at `/network` (patterns start with "/" or are empty).

Every route also answers with a trailing slash or a `.json` suffix, as Neutron does; anything
else under /network is Neutron's 404 rather than the object store's.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path
from rest_framework.request import Request
from rest_framework.response import Response

from portal.errors import NotFound

from . import floating_ips, networks, ports, quotas, security_groups, subnets, versions
from .base import NeutronView

ID = r"(?P<{}>[^/]+?)"
END = r"(?:\.json)?/?$"


def route(pattern: str, view: type, name: str, **ids: str) -> URLPattern:
    """A route for `pattern` (`{key}` segments become named groups) with Neutron's optional suffixes."""
    groups = {key: ID.format(group) for key, group in ids.items()}
    return re_path(rf"^{pattern.format(**groups)}{END}", view.as_view(), name=f"neutron-{name}")


class UnknownView(NeutronView):
    """Any other path under /network: Neutron's 404 (after the token check, like Neutron)."""

    def _missing(self, request: Request, *args: str) -> Response:
        raise NotFound("The resource could not be found.", neutron_type="HTTPNotFound")

    get = post = put = delete = patch = head = _missing


V2 = "/v2.0"

urlpatterns = [
    re_path(r"^/?$", versions.VersionsView.as_view(), name="neutron-versions"),
    route(V2, versions.ResourcesView, "resources"),
    route(f"{V2}/extensions", versions.ExtensionsView, "extensions"),
    route(f"{V2}/extensions/{{a}}", versions.ExtensionView, "extension", a="alias"),
    route(f"{V2}/networks", networks.NetworksView, "networks"),
    route(f"{V2}/networks/{{n}}", networks.NetworkView, "network", n="network_id"),
    route(f"{V2}/subnets", subnets.SubnetsView, "subnets"),
    route(f"{V2}/subnets/{{s}}", subnets.SubnetView, "subnet", s="subnet_id"),
    route(f"{V2}/ports", ports.PortsView, "ports"),
    route(f"{V2}/ports/{{p}}", ports.PortView, "port", p="port_id"),
    route(f"{V2}/floatingips", floating_ips.FloatingIPsView, "floatingips"),
    route(f"{V2}/floatingips/{{f}}", floating_ips.FloatingIPView, "floatingip", f="fip_id"),
    route(f"{V2}/security-groups", security_groups.SecurityGroupsView, "security-groups"),
    route(f"{V2}/security-groups/{{g}}", security_groups.SecurityGroupView, "security-group", g="group_id"),
    route(f"{V2}/security-group-rules", security_groups.RulesView, "security-group-rules"),
    route(f"{V2}/security-group-rules/{{r}}", security_groups.RuleView, "security-group-rule", r="rule_id"),
    route(f"{V2}/quotas", quotas.QuotasView, "quotas"),
    route(f"{V2}/quotas/{{p}}/default", quotas.QuotaDefaultView, "quota-default", p="project_id"),
    route(f"{V2}/quotas/{{p}}/details", quotas.QuotaDetailsView, "quota-details", p="project_id"),
    route(f"{V2}/quotas/{{p}}", quotas.QuotaView, "quota", p="project_id"),
    route(f"{V2}/auto-allocated-topology/{{p}}", quotas.AutoAllocatedTopologyView, "auto-topology", p="project_id"),
    re_path(r"^/.*$", UnknownView.as_view(), name="neutron-unknown"),
]
