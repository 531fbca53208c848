"""Cross-project isolation on every Neutron endpoint: another project's member gets 403/404 and never data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compute_network.helpers import V2, created, make_network, make_port, make_subnet
from tests.isolation import assert_isolated


@pytest.fixture
def victim(member_api, public_net) -> dict[str, Any]:
    """A project's private network, subnet, port, floating IP, security group and rule."""
    net = make_network(member_api, name="secret-net")
    sub = make_subnet(member_api, net["id"], "10.77.0.0/24", name="secret-sub")
    port = make_port(member_api, net["id"], name="secret-port")
    fip = created(
        member_api.post(f"{V2}/floatingips", {"floatingip": {"floating_network_id": public_net["id"]}}, format="json"),
        "floatingip",
    )
    group = created(
        member_api.post(f"{V2}/security-groups", {"security_group": {"name": "secret-sg"}}, format="json"),
        "security_group",
    )
    body = {"security_group_rule": {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp"}}
    rule = created(member_api.post(f"{V2}/security-group-rules", body, format="json"), "security_group_rule")
    return {"net": net, "sub": sub, "port": port, "fip": fip, "group": group, "rule": rule}


def secrets_of(victim: dict[str, Any]) -> list[str]:
    """Strings of the victim's objects that must never reach the outsider.

    (The floating address itself is not one: the public pool's first address is in its subnet's pools.)
    """
    return [
        victim["net"]["id"],
        "secret-net",
        victim["sub"]["id"],
        "10.77.0.0/24",
        victim["port"]["id"],
        victim["port"]["mac_address"],
        "secret-port",
        victim["fip"]["id"],
        victim["group"]["id"],
        "secret-sg",
        victim["rule"]["id"],
    ]


def test_member_objects_are_404_when_another_project_addresses_them(api, other_token, victim, project):
    net, sub, port, fip = victim["net"]["id"], victim["sub"]["id"], victim["port"]["id"], victim["fip"]["id"]
    group, rule = victim["group"]["id"], victim["rule"]["id"]
    probes = [
        ("GET", f"{V2}/networks/{net}"),
        ("PUT", f"{V2}/networks/{net}", {"network": {"name": "x"}}),
        ("DELETE", f"{V2}/networks/{net}"),
        ("GET", f"{V2}/subnets/{sub}"),
        ("PUT", f"{V2}/subnets/{sub}", {"subnet": {"name": "x"}}),
        ("DELETE", f"{V2}/subnets/{sub}"),
        ("POST", f"{V2}/subnets", {"subnet": {"network_id": net, "cidr": "10.78.0.0/24", "ip_version": 4}}),
        ("GET", f"{V2}/ports/{port}"),
        ("PUT", f"{V2}/ports/{port}", {"port": {"name": "x"}}),
        ("DELETE", f"{V2}/ports/{port}"),
        ("POST", f"{V2}/ports", {"port": {"network_id": net}}),
        ("GET", f"{V2}/floatingips/{fip}"),
        ("PUT", f"{V2}/floatingips/{fip}", {"floatingip": {"port_id": None}}),
        ("DELETE", f"{V2}/floatingips/{fip}"),
        ("GET", f"{V2}/security-groups/{group}"),
        ("PUT", f"{V2}/security-groups/{group}", {"security_group": {"name": "x"}}),
        ("DELETE", f"{V2}/security-groups/{group}"),
        ("GET", f"{V2}/security-group-rules/{rule}"),
        ("DELETE", f"{V2}/security-group-rules/{rule}"),
        (
            "POST",
            f"{V2}/security-group-rules",
            {"security_group_rule": {"security_group_id": group, "direction": "egress"}},
        ),
        ("GET", f"{V2}/networks?limit=1&marker={net}"),
        ("GET", f"{V2}/ports?limit=1&marker={port}"),
        ("GET", f"{V2}/quotas/{project.pk}"),
        ("GET", f"{V2}/quotas/{project.pk}/details"),
        ("GET", f"{V2}/quotas/{project.pk}/default"),
        ("PUT", f"{V2}/quotas/{project.pk}", {"quota": {"network": 100}}),
        ("DELETE", f"{V2}/quotas/{project.pk}"),
        ("GET", f"{V2}/auto-allocated-topology/{project.pk}"),
        ("DELETE", f"{V2}/auto-allocated-topology/{project.pk}"),
    ]
    assert_isolated(api(), other_token, probes, secrets_of(victim))


def test_outsider_cannot_reach_victim_objects_through_own_requests_when_naming_them(
    api, other_api, other_token, victim, public_net
):
    own_net = make_network(other_api, name="own")
    make_subnet(other_api, own_net["id"], "10.99.0.0/24")
    own_fip = created(
        other_api.post(f"{V2}/floatingips", {"floatingip": {"floating_network_id": public_net["id"]}}, format="json"),
        "floatingip",
    )
    own_group = created(
        other_api.post(f"{V2}/security-groups", {"security_group": {"name": "own"}}, format="json"), "security_group"
    )
    port, group = victim["port"]["id"], victim["group"]["id"]
    probes = [
        ("POST", f"{V2}/floatingips", {"floatingip": {"floating_network_id": public_net["id"], "port_id": port}}),
        ("PUT", f"{V2}/floatingips/{own_fip['id']}", {"floatingip": {"port_id": port}}),
        ("POST", f"{V2}/ports", {"port": {"network_id": own_net["id"], "security_groups": [group]}}),
        (
            "POST",
            f"{V2}/security-group-rules",
            {
                "security_group_rule": {
                    "security_group_id": own_group["id"],
                    "direction": "ingress",
                    "remote_group_id": group,
                }
            },
        ),
    ]
    assert_isolated(api(), other_token, probes, secrets_of(victim))


@pytest.mark.parametrize(
    "collection", ["networks", "subnets", "ports", "floatingips", "security-groups", "security-group-rules"]
)
def test_lists_hold_no_foreign_object_when_another_project_lists(api, other_token, victim, collection):
    ids = ",".join(v["id"] for v in victim.values())
    probes = [("GET", f"{V2}/{collection}"), ("GET", f"{V2}/{collection}?id={victim['net']['id']}&fields={ids}")]
    assert_isolated(api(), other_token, probes, secrets_of(victim), allowed=(200,))


def test_port_filters_reveal_nothing_when_naming_foreign_addresses(api, other_token, victim):
    probes = [
        ("GET", f"{V2}/ports?fixed_ips=ip_address%3D10.77.0.2"),
        ("GET", f"{V2}/ports?network_id={victim['net']['id']}"),
        ("GET", f"{V2}/ports?mac_address={victim['port']['mac_address']}"),
    ]
    assert_isolated(api(), other_token, probes, secrets_of(victim), allowed=(200,))
