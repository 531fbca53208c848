"""Never a 500: every attribute of every resource, on create and update, with values of every wrong type."""

from __future__ import annotations

from typing import Any

import pytest

from compute.network.api import floating_ips, networks, ports, security_groups, subnets
from tests.compute_network.helpers import V2, created, make_network, make_port, make_subnet

WEIRD: list[Any] = [None, 0, -1, 2**70, -(2**70), 1.5, "", "x" * 300, "nul\x00", [], [{}], {}, {"a": [None]}, True]
OK = {200, 201, 204, 400, 403, 404, 409}


@pytest.fixture
def world(admin_api, member_api, public_net) -> dict[str, Any]:
    net = make_network(member_api)
    sub = make_subnet(member_api, net["id"])
    port = make_port(member_api, net["id"])
    fip = created(
        member_api.post(f"{V2}/floatingips", {"floatingip": {"floating_network_id": public_net["id"]}}, format="json"),
        "floatingip",
    )
    group = created(
        member_api.post(f"{V2}/security-groups", {"security_group": {"name": "g"}}, format="json"), "security_group"
    )
    return {
        "networks": ("network", networks.ATTRS, {}, net["id"]),
        "subnets": ("subnet", subnets.ATTRS, {"network_id": net["id"], "cidr": "10.5.0.0/24"}, sub["id"]),
        "ports": ("port", ports.ATTRS, {"network_id": net["id"]}, port["id"]),
        "floatingips": ("floatingip", floating_ips.ATTRS, {"floating_network_id": public_net["id"]}, fip["id"]),
        "security-groups": ("security_group", security_groups.GROUP_ATTRS, {}, group["id"]),
        "security-group-rules": (
            "security_group_rule",
            security_groups.RULE_ATTRS,
            {"security_group_id": group["id"], "direction": "ingress"},
            None,
        ),
    }


@pytest.mark.parametrize("collection", ["networks", "subnets", "ports", "floatingips", "security-groups",
                                        "security-group-rules"])  # fmt: skip
@pytest.mark.parametrize("caller", ["member", "admin"])
def test_no_attribute_value_gives_a_server_error_when_creating_or_updating(
    world, member_api, admin_api, collection, caller
):
    client = member_api if caller == "member" else admin_api
    key, attrs, base, existing = world[collection]
    failures = []
    for name in attrs:
        for value in WEIRD:
            response = client.post(f"{V2}/{collection}", {key: {**base, name: value}}, format="json")
            if response.status_code not in OK:
                failures.append(("POST", name, value, response.status_code))
            if existing:
                response = client.put(f"{V2}/{collection}/{existing}", {key: {name: value}}, format="json")
                if response.status_code not in OK:
                    failures.append(("PUT", name, value, response.status_code))
    assert failures == []


@pytest.mark.parametrize(
    "query",
    [
        "mtu=99999999999999999999999",
        "limit=99999999999999999999999",
        "limit=1&marker=%00",
        "sort_key=name&sort_key=id&sort_dir=asc",
        "page_reverse=maybe",
        "id=&name=",
        "fields=",
        "router:external=1&shared=0",
    ],
)
def test_no_query_gives_a_server_error_when_listing(member_api, query):
    assert member_api.get(f"{V2}/networks?{query}").status_code in OK


@pytest.mark.parametrize("body", [None, "text", 5, [], {"network": []}, {"networks": []}, {"networks": [1]}])
def test_malformed_bodies_are_400_when_posted(member_api, body):
    response = member_api.post(f"{V2}/networks", body, format="json")
    assert response.status_code == 400
