"""Networks through the API: create/show/update/delete, admin-only attributes, visibility, bulk, bad input."""

from __future__ import annotations

import uuid

import pytest

from compute.network.models import Network
from portal.models import AuditEvent
from tests.compute_network.helpers import V2, fault, make_network, make_port, make_subnet


def test_network_is_private_active_and_audited_when_member_creates_it(member_api, project):
    net = make_network(member_api, name="web", description="front", mtu=1450)
    assert net["project_id"] == net["tenant_id"] == project.pk
    assert (net["status"], net["shared"], net["router:external"], net["mtu"]) == ("ACTIVE", False, False, 1450)
    assert net["subnets"] == [] and net["admin_state_up"] is True
    assert "provider:network_type" not in net
    assert AuditEvent.objects.filter(action="network.create", target_id=net["id"]).exists()


def test_network_show_update_delete_round_trip_when_owner(member_api):
    net = make_network(member_api)
    assert member_api.get(f"{V2}/networks/{net['id']}").json()["network"]["name"] == "net"
    updated = member_api.put(f"{V2}/networks/{net['id']}", {"network": {"name": "renamed", "mtu": 9000}}, format="json")
    body = updated.json()["network"]
    assert (body["name"], body["mtu"], body["revision_number"]) == ("renamed", 9000, 1)
    assert member_api.delete(f"{V2}/networks/{net['id']}").status_code == 204
    assert member_api.get(f"{V2}/networks/{net['id']}").status_code == 404


@pytest.mark.parametrize(
    "attrs",
    [
        {"shared": True},
        {"router:external": True},
        {"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 10},
    ],
)
def test_admin_only_attribute_is_403_when_member_sets_it(member_api, attrs):
    response = member_api.post(f"{V2}/networks", {"network": {"name": "x", **attrs}}, format="json")
    assert response.status_code == 403
    assert fault(response)["type"] == "PolicyNotAuthorized"


def test_default_value_of_admin_attribute_is_accepted_when_member_sends_it(member_api):
    assert make_network(member_api, shared=False)["shared"] is False


def test_provider_attributes_are_stored_and_shown_to_admins_only_when_set(admin_api, member_api):
    attrs = {"provider:network_type": "vlan", "provider:physical_network": "br-data", "provider:segmentation_id": 42}
    net = make_network(admin_api, shared=True, **attrs)
    assert {k: net[k] for k in attrs} == attrs
    seen = member_api.get(f"{V2}/networks/{net['id']}").json()["network"]
    assert seen["shared"] is True and "provider:physical_network" not in seen
    assert Network.objects.get(pk=net["id"]).link == "br-data"


@pytest.mark.parametrize(
    ("attrs", "fragment"),
    [
        ({"provider:network_type": "vlan", "provider:physical_network": "p"}, "segmentation_id required"),
        (
            {"provider:network_type": "vlan", "provider:physical_network": "p", "provider:segmentation_id": 5000},
            "range",
        ),
        ({"provider:network_type": "flat"}, "physical_network required"),
        ({"provider:network_type": "warp"}, "not supported"),
        ({"provider:segmentation_id": 3}, "network_type required"),
    ],
)
def test_provider_attributes_are_400_when_inconsistent(admin_api, attrs, fragment):
    response = admin_api.post(f"{V2}/networks", {"network": attrs}, format="json")
    assert response.status_code == 400 and fragment in fault(response)["message"]


def test_same_segment_is_409_when_taken_by_another_network(admin_api):
    attrs = {"provider:network_type": "vlan", "provider:physical_network": "p", "provider:segmentation_id": 7}
    make_network(admin_api, **attrs)
    response = admin_api.post(f"{V2}/networks", {"network": attrs}, format="json")
    assert response.status_code == 409


def test_second_default_external_network_is_409_when_one_exists(admin_api, public_net):
    response = admin_api.post(
        f"{V2}/networks", {"network": {"router:external": True, "is_default": True}}, format="json"
    )
    assert response.status_code == 409 and fault(response)["type"] == "DefaultExternalNetworkExists"


@pytest.mark.parametrize(
    "body",
    [
        {"network": {"name": 5}},
        {"network": {"admin_state_up": "maybe"}},
        {"network": {"mtu": 20}},
        {"network": {"bogus": 1}},
        {"network": {"status": "DOWN"}},
        {"network": "x"},
        {"nothing": {}},
        [],
    ],
)
def test_network_create_is_400_when_body_is_malformed(member_api, body):
    response = member_api.post(f"{V2}/networks", body, format="json")
    assert response.status_code == 400, response.content
    assert "NeutronError" in response.json()


def test_network_create_is_400_when_json_is_broken(member_api):
    response = member_api.post(f"{V2}/networks", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_network_show_is_404_when_id_is_malformed_or_unknown(member_api):
    for ident in ("not-a-uuid", str(uuid.uuid4())):
        response = member_api.get(f"{V2}/networks/{ident}")
        assert response.status_code == 404 and fault(response)["type"] == "NetworkNotFound"


def test_member_sees_own_shared_and_external_networks_when_listing(member_api, admin_api, other_api, public_net):
    own = make_network(member_api, name="mine")
    shared = make_network(admin_api, name="common", shared=True)
    foreign = make_network(other_api, name="theirs")
    ids = {n["id"] for n in member_api.get(f"{V2}/networks").json()["networks"]}
    assert {own["id"], shared["id"], public_net["id"]} <= ids and foreign["id"] not in ids


def test_shared_network_is_403_when_member_updates_or_deletes_it(member_api, admin_api):
    shared = make_network(admin_api, shared=True)
    assert member_api.put(f"{V2}/networks/{shared['id']}", {"network": {"name": "x"}}, format="json").status_code == 403
    assert member_api.delete(f"{V2}/networks/{shared['id']}").status_code == 403


def test_unsharing_is_409_when_other_projects_have_ports_on_it(member_api, admin_api):
    shared = make_network(admin_api, shared=True)
    make_subnet(admin_api, shared["id"])
    make_port(member_api, shared["id"])
    response = admin_api.put(f"{V2}/networks/{shared['id']}", {"network": {"shared": False}}, format="json")
    assert response.status_code == 409 and fault(response)["type"] == "InvalidSharedSetting"


def test_network_delete_is_409_when_a_port_uses_it(member_api):
    net = make_network(member_api)
    make_subnet(member_api, net["id"])
    make_port(member_api, net["id"])
    response = member_api.delete(f"{V2}/networks/{net['id']}")
    assert response.status_code == 409 and fault(response)["type"] == "NetworkInUse"


def test_network_delete_takes_its_subnets_when_no_port_uses_them(member_api):
    net = make_network(member_api)
    sub = make_subnet(member_api, net["id"])
    assert member_api.delete(f"{V2}/networks/{net['id']}").status_code == 204
    assert member_api.get(f"{V2}/subnets/{sub['id']}").status_code == 404


def test_bulk_create_makes_all_or_nothing_when_one_item_is_bad(member_api):
    good = {"networks": [{"name": "a"}, {"name": "b"}]}
    response = member_api.post(f"{V2}/networks", good, format="json")
    assert response.status_code == 201 and [n["name"] for n in response.json()["networks"]] == ["a", "b"]
    bad = {"networks": [{"name": "c"}, {"name": 7}]}
    assert member_api.post(f"{V2}/networks", bad, format="json").status_code == 400
    assert not Network.objects.filter(name="c").exists()


def test_admin_creates_network_for_another_project_when_project_id_given(admin_api, other_project):
    net = make_network(admin_api, project_id=other_project.pk)
    assert net["project_id"] == other_project.pk


def test_member_is_400_when_naming_another_project(member_api, other_project):
    response = member_api.post(f"{V2}/networks", {"network": {"tenant_id": other_project.pk}}, format="json")
    assert response.status_code == 400


def test_project_delete_takes_its_network_objects_when_the_project_goes(member_api, project, public_net):
    from identity.services import projects

    net = make_network(member_api)
    make_subnet(member_api, net["id"])
    port = make_port(member_api, net["id"])
    body = {"floatingip": {"floating_network_id": public_net["id"], "port_id": port["id"]}}
    assert member_api.post(f"{V2}/floatingips", body, format="json").status_code == 201
    projects.delete_project(project, actor=None)
    assert not Network.objects.filter(pk=net["id"]).exists()
    assert Network.objects.filter(pk=public_net["id"]).exists()
