"""Subnets through the API: IPv4/IPv6 defaults, CIDR/pool/gateway/DNS/route validation, overlap, update, delete."""

from __future__ import annotations

import pytest

from tests.compute_network.helpers import V2, fault, make_network, make_port, make_subnet


@pytest.fixture
def net(member_api) -> dict:
    return make_network(member_api)


def post(client, net_id: str, **attrs):
    body = {"subnet": {"network_id": net_id, "ip_version": 4, **attrs}}
    return client.post(f"{V2}/subnets", body, format="json")


def test_ipv4_subnet_gets_first_address_as_gateway_and_the_rest_as_pool_when_defaults(member_api, net):
    sub = make_subnet(member_api, net["id"], "192.168.10.0/24", dns_nameservers=["192.0.2.53"])
    assert (sub["ip_version"], sub["gateway_ip"], sub["enable_dhcp"]) == (4, "192.168.10.1", True)
    assert sub["allocation_pools"] == [{"start": "192.168.10.2", "end": "192.168.10.254"}]
    assert sub["dns_nameservers"] == ["192.0.2.53"]
    assert member_api.get(f"{V2}/networks/{net['id']}").json()["network"]["subnets"] == [sub["id"]]


def test_ipv6_subnet_pool_runs_to_the_last_address_when_defaults(member_api, net):
    sub = make_subnet(member_api, net["id"], "2001:db8:1::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    assert sub["gateway_ip"] == "2001:db8:1::1"
    assert sub["allocation_pools"] == [{"start": "2001:db8:1::2", "end": "2001:db8:1:0:ffff:ffff:ffff:ffff"}]
    assert (sub["ipv6_ra_mode"], sub["ipv6_address_mode"]) == ("slaac", "slaac")


def test_subnet_without_gateway_pools_every_host_when_gateway_is_null(member_api, net):
    sub = make_subnet(member_api, net["id"], "10.0.0.0/29", gateway_ip=None)
    assert sub["gateway_ip"] is None
    assert sub["allocation_pools"] == [{"start": "10.0.0.1", "end": "10.0.0.6"}]


def test_gateway_in_the_middle_splits_the_default_pool_when_given(member_api, net):
    sub = make_subnet(member_api, net["id"], "10.0.0.0/28", gateway_ip="10.0.0.8")
    assert sub["allocation_pools"] == [
        {"start": "10.0.0.1", "end": "10.0.0.7"},
        {"start": "10.0.0.9", "end": "10.0.0.14"},
    ]


def test_explicit_pools_are_kept_sorted_when_valid(member_api, net):
    pools = [{"start": "10.0.0.100", "end": "10.0.0.120"}, {"start": "10.0.0.10", "end": "10.0.0.20"}]
    sub = make_subnet(member_api, net["id"], allocation_pools=pools)
    assert sub["allocation_pools"] == [pools[1], pools[0]]


@pytest.mark.parametrize(
    ("attrs", "status", "kind"),
    [
        ({"cidr": "10.0.0.300/24"}, 400, "InvalidInput"),
        ({"cidr": "not-a-cidr"}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0"}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.5/24"}, 400, "InvalidInput"),
        ({"cidr": "2001:db8::/64"}, 400, "InvalidInput"),  # ip_version 4 in the body
        ({"cidr": "10.0.0.0/24", "ip_version": 6}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "ip_version": 5}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.1.1"}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.255"}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "banana"}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.1.2", "end": "10.0.1.9"}]}, 400,
         "OutOfBoundsAllocationPool"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.9", "end": "10.0.0.2"}]}, 400,
         "InvalidAllocationPool"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.2"}]}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": "all"}, 400, "HTTPBadRequest"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.20"},
                                                       {"start": "10.0.0.10", "end": "10.0.0.30"}]}, 409,
         "OverlappingAllocationPools"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.1", "end": "10.0.0.20"}]}, 409,
         "GatewayConflictWithAllocationPools"),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": ["8.8.8.8", "8.8.8.8"]}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": ["dns.example"]}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "host_routes": [{"destination": "0.0.0.0/0"}]}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "host_routes": [{"destination": "::/0", "nexthop": "10.0.0.1"}]}, 400,
         "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "ipv6_address_mode": "slaac"}, 400, "InvalidInput"),
        ({"cidr": "10.0.0.0/24", "subnetpool_id": "abc"}, 400, "HTTPBadRequest"),
        ({"cidr": 10}, 400, "HTTPBadRequest"),
        ({}, 400, "HTTPBadRequest"),
    ],
)  # fmt: skip
def test_subnet_create_is_refused_when_input_is_invalid(member_api, net, attrs, status, kind):
    response = post(member_api, net["id"], **attrs)
    assert response.status_code == status, response.content
    assert fault(response)["type"] == kind


def test_slaac_subnet_is_400_when_prefix_is_not_64(member_api, net):
    body = {"cidr": "2001:db8::/80", "ip_version": 6, "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}
    assert post(member_api, net["id"], **body).status_code == 400


def test_overlapping_subnet_is_400_when_on_the_same_network(member_api, net):
    make_subnet(member_api, net["id"], "10.0.0.0/16")
    response = post(member_api, net["id"], cidr="10.0.5.0/24")
    assert response.status_code == 400 and "overlaps with another subnet" in fault(response)["message"]


def test_same_cidr_is_accepted_when_on_another_network(member_api, net):
    make_subnet(member_api, net["id"], "10.0.0.0/24")
    other = make_network(member_api, name="other")
    assert make_subnet(member_api, other["id"], "10.0.0.0/24")["cidr"] == "10.0.0.0/24"


def test_subnet_on_unknown_network_is_404_when_created(member_api):
    response = post(member_api, "00000000-0000-0000-0000-000000000000", cidr="10.0.0.0/24")
    assert response.status_code == 404 and fault(response)["type"] == "NetworkNotFound"


def test_subnet_on_malformed_network_id_is_400_when_created(member_api):
    assert post(member_api, "net-1", cidr="10.0.0.0/24").status_code == 400


def test_subnet_on_shared_network_is_403_when_member_is_not_owner(member_api, admin_api):
    shared = make_network(admin_api, shared=True)
    assert post(member_api, shared["id"], cidr="10.9.0.0/24").status_code == 403


def test_subnet_update_changes_pools_dns_and_routes_when_valid(member_api, net):
    sub = make_subnet(member_api, net["id"])
    changes = {
        "name": "renamed",
        "allocation_pools": [{"start": "10.0.0.50", "end": "10.0.0.60"}],
        "dns_nameservers": ["10.0.0.2"],
        "host_routes": [{"destination": "192.0.2.0/24", "nexthop": "10.0.0.9"}],
        "enable_dhcp": False,
    }
    body = member_api.put(f"{V2}/subnets/{sub['id']}", {"subnet": changes}, format="json").json()["subnet"]
    assert {k: body[k] for k in changes} == changes
    port = make_port(member_api, net["id"])
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.50"


@pytest.mark.parametrize(
    "changes",
    [
        {"cidr": "10.1.0.0/24"},
        {"ip_version": 6},
        {"network_id": "00000000-0000-0000-0000-000000000000"},
        {"gateway_ip": "10.0.0.30", "allocation_pools": [{"start": "10.0.0.20", "end": "10.0.0.40"}]},
        {"project_id": "x"},
    ],
)
def test_subnet_update_is_refused_when_changing_read_only_or_conflicting_attributes(member_api, net, changes):
    sub = make_subnet(member_api, net["id"])
    response = member_api.put(f"{V2}/subnets/{sub['id']}", {"subnet": changes}, format="json")
    assert response.status_code in (400, 409), response.content


def test_gateway_update_is_409_when_it_falls_inside_the_pools(member_api, net):
    sub = make_subnet(member_api, net["id"])
    response = member_api.put(f"{V2}/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.0.0.5"}}, format="json")
    assert response.status_code == 409 and fault(response)["type"] == "GatewayConflictWithAllocationPools"


def test_subnet_delete_is_409_while_a_port_has_an_address_in_it(member_api, net):
    sub = make_subnet(member_api, net["id"])
    port = make_port(member_api, net["id"])
    response = member_api.delete(f"{V2}/subnets/{sub['id']}")
    assert response.status_code == 409 and fault(response)["type"] == "SubnetInUse"
    assert member_api.delete(f"{V2}/ports/{port['id']}").status_code == 204
    assert member_api.delete(f"{V2}/subnets/{sub['id']}").status_code == 204


@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_auto_address_subnet_is_deleted_with_its_port_addresses_when_ports_remain(member_api, net, mode):
    v4 = make_subnet(member_api, net["id"])
    v6 = make_subnet(member_api, net["id"], "2001:db8:1::/64", ipv6_ra_mode=mode, ipv6_address_mode=mode)
    port = make_port(member_api, net["id"])
    assert {ip["subnet_id"] for ip in port["fixed_ips"]} == {v4["id"], v6["id"]}
    assert member_api.delete(f"{V2}/subnets/{v6['id']}").status_code == 204
    shown = member_api.get(f"{V2}/ports/{port['id']}").json()["port"]
    assert [ip["subnet_id"] for ip in shown["fixed_ips"]] == [v4["id"]]
    response = member_api.delete(f"{V2}/networks/{net['id']}")
    assert response.status_code == 409 and "still in use on the network" in fault(response)["message"]


def test_bulk_subnets_are_created_together_when_posted_as_a_list(member_api, net):
    body = {
        "subnets": [
            {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4},
            {"network_id": net["id"], "cidr": "2001:db8::/64", "ip_version": 6},
        ]
    }
    response = member_api.post(f"{V2}/subnets", body, format="json")
    assert response.status_code == 201 and len(response.json()["subnets"]) == 2


def test_subnets_say_whether_their_network_is_external_and_filter_on_it(member_api, net, public_net):
    private = make_subnet(member_api, net["id"], "192.168.30.0/24")
    assert private["router:external"] is False

    public = member_api.get(f"{V2}/subnets/{public_net['subnet_id']}").json()["subnet"]
    assert public["router:external"] is True
    external = member_api.get(f"{V2}/subnets?router:external=true").json()["subnets"]
    internal = member_api.get(f"{V2}/subnets?router:external=false").json()["subnets"]
    assert [s["id"] for s in external] == [public_net["subnet_id"]]
    assert private["id"] in {s["id"] for s in internal}
    assert public_net["subnet_id"] not in {s["id"] for s in internal}
    aliases = {e["alias"] for e in member_api.get(f"{V2}/extensions").json()["extensions"]}
    assert "subnet-external-network" in aliases
