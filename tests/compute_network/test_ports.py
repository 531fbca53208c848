"""Ports through the API: MACs, default and requested fixed IPs, exhaustion, security groups, update, policy."""

from __future__ import annotations

import itertools

import pytest

from compute.network.models import IPAllocation, Port
from compute.network.services import ports as port_service
from tests.compute_network.helpers import V2, fault, make_network, make_port, make_subnet


@pytest.fixture
def net(member_api) -> dict:
    network = make_network(member_api)
    network["subnet"] = make_subnet(member_api, network["id"], "10.0.0.0/29")  # pool .2-.6
    return network


def post(client, net_id: str, **attrs):
    return client.post(f"{V2}/ports", {"port": {"network_id": net_id, **attrs}}, format="json")


def test_port_gets_mac_first_free_ip_and_default_group_when_created(member_api, net):
    port = make_port(member_api, net["id"], name="p", device_owner="compute:nova", device_id="vm-1")
    assert port["mac_address"].startswith("fa:16:3e:") and port["status"] == "DOWN"
    assert port["fixed_ips"] == [{"subnet_id": net["subnet"]["id"], "ip_address": "10.0.0.2"}]
    groups = member_api.get(f"{V2}/security-groups?name=default").json()["security_groups"]
    assert port["security_groups"] == [groups[0]["id"]]
    assert (port["device_id"], port["device_owner"], port["port_security_enabled"]) == ("vm-1", "compute:nova", True)


def test_ports_get_successive_addresses_then_409_when_the_pool_is_exhausted(member_api, net):
    addresses = [make_port(member_api, net["id"])["fixed_ips"][0]["ip_address"] for _ in range(5)]
    assert addresses == [f"10.0.0.{i}" for i in range(2, 7)]
    response = post(member_api, net["id"])
    assert response.status_code == 409 and fault(response)["type"] == "IpAddressGenerationFailure"


def test_freed_address_is_handed_out_again_when_its_port_is_deleted(member_api, net):
    first = make_port(member_api, net["id"])
    make_port(member_api, net["id"])
    assert member_api.delete(f"{V2}/ports/{first['id']}").status_code == 204
    assert make_port(member_api, net["id"])["fixed_ips"][0]["ip_address"] == "10.0.0.2"


def test_requested_address_is_given_then_409_ip_in_use_when_requested_twice(member_api, net):
    wanted = [{"ip_address": "10.0.0.5"}]
    assert make_port(member_api, net["id"], fixed_ips=wanted)["fixed_ips"][0]["ip_address"] == "10.0.0.5"
    response = post(member_api, net["id"], fixed_ips=wanted)
    assert response.status_code == 409 and fault(response)["type"] == "IpAddressInUse"
    assert "10.0.0.5 is in use" in fault(response)["message"]


def test_automatic_allocation_skips_requested_addresses_when_they_are_taken(member_api, net):
    make_port(member_api, net["id"], fixed_ips=[{"ip_address": "10.0.0.2"}])
    assert make_port(member_api, net["id"])["fixed_ips"][0]["ip_address"] == "10.0.0.3"


@pytest.mark.parametrize(
    ("fixed_ips", "kind"),
    [
        ([{"ip_address": "10.0.1.5"}], "InvalidIpForNetwork"),
        ([{"ip_address": "10.0.0.1"}], "InvalidIpForSubnet"),  # the gateway
        ([{"ip_address": "10.0.0.7"}], "InvalidIpForSubnet"),  # broadcast
        ([{"ip_address": "ten"}], "InvalidInput"),
        ([{"subnet_id": "00000000-0000-0000-0000-000000000000"}], "InvalidInput"),
        ([{"subnet_id": "nope"}], "HTTPBadRequest"),
        ([{"mac": "x"}], "HTTPBadRequest"),
        (["10.0.0.3"], "HTTPBadRequest"),
        ([{"ip_address": "10.0.0.3"}, {"ip_address": "10.0.0.3"}], "InvalidInput"),
    ],
)
def test_port_create_is_400_when_fixed_ips_are_invalid(member_api, net, fixed_ips, kind):
    response = post(member_api, net["id"], fixed_ips=fixed_ips)
    assert response.status_code == 400, response.content
    assert fault(response)["type"] == kind


def test_address_outside_pools_is_allowed_when_requested_inside_the_cidr(member_api):
    network = make_network(member_api)
    sub = make_subnet(member_api, network["id"], allocation_pools=[{"start": "10.0.0.10", "end": "10.0.0.20"}])
    port = make_port(member_api, network["id"], fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.0.0.200"}])
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.200"


def test_port_gets_one_v4_and_an_eui64_v6_address_when_network_is_dual_stack(member_api):
    network = make_network(member_api)
    make_subnet(member_api, network["id"], "10.0.0.0/24")
    v6 = make_subnet(member_api, network["id"], "2001:db8::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    port = make_port(member_api, network["id"], mac_address="fa:16:3e:00:00:01")
    assert [ip["ip_address"] for ip in port["fixed_ips"]] == ["10.0.0.2", "2001:db8::f816:3eff:fe00:1"]
    assert port["fixed_ips"][1]["subnet_id"] == v6["id"]


def test_port_has_no_address_when_network_has_no_subnet(member_api):
    network = make_network(member_api)
    assert make_port(member_api, network["id"])["fixed_ips"] == []


def test_explicit_empty_fixed_ips_give_no_address_when_requested(member_api, net):
    assert make_port(member_api, net["id"], fixed_ips=[])["fixed_ips"] == []


def test_mac_is_drawn_again_when_the_generated_one_collides(member_api, net, monkeypatch):
    taken = make_port(member_api, net["id"])["mac_address"]
    draws = itertools.chain([taken, taken], itertools.repeat("fa:16:3e:aa:bb:cc"))
    monkeypatch.setattr(port_service, "random_mac", lambda: next(draws))
    assert make_port(member_api, net["id"])["mac_address"] == "fa:16:3e:aa:bb:cc"


def test_mac_generation_is_409_when_every_draw_collides(member_api, net, monkeypatch):
    taken = make_port(member_api, net["id"])["mac_address"]
    monkeypatch.setattr(port_service, "random_mac", lambda: taken)
    response = post(member_api, net["id"])
    assert response.status_code == 409 and fault(response)["type"] == "MacAddressGenerationFailure"
    assert Port.objects.count() == 1


def test_requested_mac_is_409_when_another_port_has_it(member_api, net):
    make_port(member_api, net["id"], mac_address="FA:16:3E:12:34:56")
    response = post(member_api, net["id"], mac_address="fa:16:3e:12:34:56")
    assert response.status_code == 409 and fault(response)["type"] == "MacAddressInUse"


@pytest.mark.parametrize("mac", ["fa:16:3e:12:34", "01:00:5e:00:00:01", "00:00:00:00:00:00", "zz:16:3e:12:34:56"])
def test_requested_mac_is_400_when_malformed_or_multicast(member_api, net, mac):
    assert post(member_api, net["id"], mac_address=mac).status_code == 400


def test_port_update_replaces_fixed_ips_keeping_matching_ones_when_changed(member_api, net):
    port = make_port(member_api, net["id"], fixed_ips=[{"ip_address": "10.0.0.3"}, {"ip_address": "10.0.0.4"}])
    body = {"port": {"fixed_ips": [{"ip_address": "10.0.0.4"}, {"ip_address": "10.0.0.6"}], "name": "x"}}
    updated = member_api.put(f"{V2}/ports/{port['id']}", body, format="json").json()["port"]
    assert sorted(ip["ip_address"] for ip in updated["fixed_ips"]) == ["10.0.0.4", "10.0.0.6"]
    assert set(IPAllocation.objects.values_list("ip_address", flat=True)) == {"10.0.0.4", "10.0.0.6"}
    assert updated["name"] == "x" and updated["revision_number"] == 1


def test_port_update_reuses_an_address_when_request_names_only_its_subnet(member_api, net):
    port = make_port(member_api, net["id"], fixed_ips=[{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.3"}])
    body = {"port": {"fixed_ips": [{"subnet_id": net["subnet"]["id"]}, {"ip_address": "10.0.0.3"}]}}
    updated = member_api.put(f"{V2}/ports/{port['id']}", body, format="json").json()["port"]
    assert sorted(ip["ip_address"] for ip in updated["fixed_ips"]) == ["10.0.0.3", "10.0.0.5"]


def test_port_update_is_409_when_new_address_is_taken(member_api, net):
    make_port(member_api, net["id"], fixed_ips=[{"ip_address": "10.0.0.6"}])
    port = make_port(member_api, net["id"])
    body = {"port": {"fixed_ips": [{"ip_address": "10.0.0.6"}]}}
    assert member_api.put(f"{V2}/ports/{port['id']}", body, format="json").status_code == 409
    assert member_api.get(f"{V2}/ports/{port['id']}").json()["port"]["fixed_ips"][0]["ip_address"] == "10.0.0.2"


def test_port_security_groups_are_set_and_checked_when_given(member_api, net, other_api):
    group = member_api.post(f"{V2}/security-groups", {"security_group": {"name": "web"}}, format="json").json()
    port = make_port(member_api, net["id"], security_groups=[group["security_group"]["id"]])
    assert port["security_groups"] == [group["security_group"]["id"]]
    foreign = other_api.post(f"{V2}/security-groups", {"security_group": {"name": "x"}}, format="json").json()
    response = post(member_api, net["id"], security_groups=[foreign["security_group"]["id"]])
    assert response.status_code == 404 and fault(response)["type"] == "SecurityGroupNotFound"


def test_port_without_security_has_no_groups_and_refuses_them_when_disabled(member_api, net):
    port = make_port(member_api, net["id"], port_security_enabled=False)
    assert port["security_groups"] == [] and port["port_security_enabled"] is False
    group_id = member_api.get(f"{V2}/security-groups").json()["security_groups"][0]["id"]
    body = {"port": {"security_groups": [group_id]}}
    assert member_api.put(f"{V2}/ports/{port['id']}", body, format="json").status_code == 400


def test_allowed_address_pairs_are_stored_with_the_port_mac_when_given(member_api, net):
    port = make_port(member_api, net["id"], allowed_address_pairs=[{"ip_address": "10.0.0.100"}])
    assert port["allowed_address_pairs"] == [{"ip_address": "10.0.0.100", "mac_address": port["mac_address"]}]
    assert post(member_api, net["id"], allowed_address_pairs=[{"mac_address": "x"}]).status_code == 400


def test_member_may_plug_into_shared_network_but_not_pick_its_address_when_not_owner(member_api, admin_api):
    shared = make_network(admin_api, shared=True)
    make_subnet(admin_api, shared["id"], "10.50.0.0/24")
    assert make_port(member_api, shared["id"])["fixed_ips"][0]["ip_address"] == "10.50.0.2"
    response = post(member_api, shared["id"], fixed_ips=[{"ip_address": "10.50.0.9"}])
    assert response.status_code == 403


def test_member_is_403_when_plugging_into_an_external_network(member_api, public_net):
    assert post(member_api, public_net["id"]).status_code == 403


def test_binding_attributes_are_admin_only_when_set_or_shown(member_api, admin_api, net):
    assert post(member_api, net["id"], **{"binding:host_id": "node1"}).status_code == 403
    port = make_port(member_api, net["id"])
    assert "binding:host_id" not in port and port["binding:vnic_type"] == "normal"
    shown = admin_api.get(f"{V2}/ports/{port['id']}").json()["port"]
    assert shown["binding:vif_type"] == "unbound" and shown["binding:host_id"] == ""


def test_mac_update_is_403_when_member_tries_it(member_api, net):
    port = make_port(member_api, net["id"])
    body = {"port": {"mac_address": "fa:16:3e:00:00:09"}}
    assert member_api.put(f"{V2}/ports/{port['id']}", body, format="json").status_code == 403


def test_port_list_filters_by_fixed_ip_device_and_network_when_asked(member_api, net):
    a = make_port(member_api, net["id"], device_id="vm-a")
    b = make_port(member_api, net["id"], device_id="vm-b")

    def ids(query: str) -> list[str]:
        return [p["id"] for p in member_api.get(f"{V2}/ports?{query}").json()["ports"]]

    assert ids("fixed_ips=ip_address%3D10.0.0.3") == [b["id"]]
    assert ids(f"fixed_ips=subnet_id%3D{net['subnet']['id']}&fixed_ips=ip_address%3D10.0.0.2") == [a["id"]]
    assert ids("device_id=vm-a") == [a["id"]]
    assert sorted(ids(f"network_id={net['id']}")) == sorted([a["id"], b["id"]])
    assert ids("network_id=garbage") == []


def test_port_create_is_400_when_network_id_is_missing(member_api):
    response = member_api.post(f"{V2}/ports", {"port": {"name": "x"}}, format="json")
    assert response.status_code == 400
