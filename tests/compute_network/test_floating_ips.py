"""Floating IPs: allocation from the public pool, association rules, disassociation, release, quota."""

from __future__ import annotations

import pytest

from compute.network.models import FloatingIP
from compute.network.services import topology
from tests.compute_network.helpers import V2, created, fault, make_network, make_port, make_subnet


@pytest.fixture
def port(member_api) -> dict:
    network = make_network(member_api)
    make_subnet(member_api, network["id"], "10.0.0.0/24")
    return make_port(member_api, network["id"])


def allocate(client, network_id: str, **attrs):
    return client.post(f"{V2}/floatingips", {"floatingip": {"floating_network_id": network_id, **attrs}}, format="json")


def test_floating_ip_comes_from_the_public_pool_down_and_unbound_when_allocated(member_api, public_net, project):
    fip = created(allocate(member_api, public_net["id"]), "floatingip")
    assert fip["floating_ip_address"] == "203.0.113.2" and fip["status"] == "DOWN"
    assert (fip["port_id"], fip["fixed_ip_address"], fip["router_id"]) == (None, None, None)
    assert fip["project_id"] == project.pk


def test_floating_ip_maps_to_the_port_and_is_active_when_associated(member_api, public_net, port):
    fip = created(allocate(member_api, public_net["id"]), "floatingip")
    body = {"floatingip": {"port_id": port["id"]}}
    updated = member_api.put(f"{V2}/floatingips/{fip['id']}", body, format="json").json()["floatingip"]
    assert (updated["port_id"], updated["fixed_ip_address"], updated["status"]) == (port["id"], "10.0.0.2", "ACTIVE")
    cleared = member_api.put(f"{V2}/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}, format="json")
    assert cleared.json()["floatingip"]["port_id"] is None and cleared.json()["floatingip"]["status"] == "DOWN"


def test_floating_ip_can_be_associated_at_creation_when_port_given(member_api, public_net, port):
    fip = created(allocate(member_api, public_net["id"], port_id=port["id"]), "floatingip")
    assert fip["fixed_ip_address"] == "10.0.0.2" and fip["status"] == "ACTIVE"


def test_second_floating_ip_is_409_when_the_fixed_ip_already_has_one(member_api, public_net, port):
    created(allocate(member_api, public_net["id"], port_id=port["id"]), "floatingip")
    response = allocate(member_api, public_net["id"], port_id=port["id"])
    assert response.status_code == 409 and fault(response)["type"] == "FloatingIPPortAlreadyAssociated"
    assert FloatingIP.objects.count() == 1


def test_port_delete_disassociates_its_floating_ip_when_deleted(member_api, public_net, port):
    fip = created(allocate(member_api, public_net["id"], port_id=port["id"]), "floatingip")
    assert member_api.delete(f"{V2}/ports/{port['id']}").status_code == 204
    shown = member_api.get(f"{V2}/floatingips/{fip['id']}").json()["floatingip"]
    assert (shown["port_id"], shown["fixed_ip_address"], shown["status"]) == (None, None, "DOWN")


def test_released_address_is_reused_when_a_floating_ip_is_deleted(member_api, public_net):
    first = created(allocate(member_api, public_net["id"]), "floatingip")
    assert member_api.delete(f"{V2}/floatingips/{first['id']}").status_code == 204
    assert created(allocate(member_api, public_net["id"]), "floatingip")["floating_ip_address"] == "203.0.113.2"


def test_floating_ip_is_400_when_network_is_not_external(member_api, port):
    response = allocate(member_api, port["network_id"])
    assert response.status_code == 400 and "not a valid external network" in fault(response)["message"]


def test_floating_ip_is_404_when_network_is_unknown_or_malformed(member_api):
    assert allocate(member_api, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert allocate(member_api, "public").status_code == 400


def test_fixed_ip_is_400_when_it_is_not_the_ports(member_api, public_net, port):
    response = allocate(member_api, public_net["id"], port_id=port["id"], fixed_ip_address="10.0.0.99")
    assert response.status_code == 400


def test_fixed_ip_without_port_is_400_when_given_alone(member_api, public_net):
    assert allocate(member_api, public_net["id"], fixed_ip_address="10.0.0.2").status_code == 400


def test_port_of_another_project_is_404_when_associating(member_api, other_api, public_net):
    network = make_network(other_api)
    make_subnet(other_api, network["id"])
    foreign = make_port(other_api, network["id"])
    response = allocate(member_api, public_net["id"], port_id=foreign["id"])
    assert response.status_code == 404 and fault(response)["type"] == "PortNotFound"


def test_port_with_two_v4_addresses_needs_a_fixed_ip_when_associating(member_api, public_net):
    network = make_network(member_api)
    make_subnet(member_api, network["id"], "10.0.0.0/24")
    two = make_port(member_api, network["id"], fixed_ips=[{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.6"}])
    assert allocate(member_api, public_net["id"], port_id=two["id"]).status_code == 400
    fip = created(allocate(member_api, public_net["id"], port_id=two["id"], fixed_ip_address="10.0.0.6"), "floatingip")
    assert fip["fixed_ip_address"] == "10.0.0.6"


def test_specific_floating_address_is_admin_only_when_requested(member_api, admin_api, public_net):
    assert allocate(member_api, public_net["id"], floating_ip_address="203.0.113.77").status_code == 403
    fip = created(allocate(admin_api, public_net["id"], floating_ip_address="203.0.113.77"), "floatingip")
    assert fip["floating_ip_address"] == "203.0.113.77"
    response = allocate(admin_api, public_net["id"], floating_ip_address="203.0.113.77")
    assert response.status_code == 409 and fault(response)["type"] == "IpAddressInUse"


def test_floating_ip_is_409_when_the_pool_is_exhausted(member_api, admin_project):
    tiny = topology.ensure_public_network(name="tiny", cidr="198.51.100.0/30", project=admin_project)
    created(allocate(member_api, str(tiny.pk)), "floatingip")
    response = allocate(member_api, str(tiny.pk))
    assert response.status_code == 409 and fault(response)["type"] == "IpAddressGenerationFailure"


def test_external_network_is_409_when_deleted_while_floating_ips_use_it(admin_api, member_api, public_net):
    created(allocate(member_api, public_net["id"]), "floatingip")
    response = admin_api.delete(f"{V2}/networks/{public_net['id']}")
    assert response.status_code == 409 and fault(response)["type"] == "NetworkInUse"


def test_floating_ip_list_filters_by_port_when_asked(member_api, public_net, port):
    bound = created(allocate(member_api, public_net["id"], port_id=port["id"]), "floatingip")
    created(allocate(member_api, public_net["id"]), "floatingip")
    listed = member_api.get(f"{V2}/floatingips?port_id={port['id']}").json()["floatingips"]
    assert [f["id"] for f in listed] == [bound["id"]]


def test_ensure_public_network_is_idempotent_when_called_twice(admin_project, public_net):
    again = topology.ensure_public_network(project=admin_project)
    assert str(again.pk) == public_net["id"] and again.external and again.is_default and not again.shared
    assert again.subnets.count() == 1
