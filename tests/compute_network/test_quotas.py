"""Quotas: network.networks and network.floating_ips through the ledger (two-phase), and Neutron's quota API."""

from __future__ import annotations

import uuid

import pytest

from compute.network.services import charges
from identity.quota_models import Commission
from identity.services import quotas
from tests.compute_network.helpers import V2, created, fault, make_network


def usage_of(project, resource: str) -> dict:
    return next(row for row in quotas.usage(project) if row["resource"] == resource)


def test_network_create_is_409_over_quota_with_neutrons_message_when_limit_is_reached(member_api, project):
    quotas.set_limit(project, charges.NETWORKS, 2, actor=None)
    make_network(member_api)
    make_network(member_api)
    response = member_api.post(f"{V2}/networks", {"network": {"name": "third"}}, format="json")
    assert response.status_code == 409
    assert fault(response) == {
        "type": "OverQuota",
        "message": "Quota exceeded for resources: ['network'].",
        "detail": "",
    }


def test_network_charge_is_accepted_on_commit_and_released_on_delete_when_committed(
    member_api, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        net = make_network(member_api)
    assert usage_of(project, charges.NETWORKS)["usage"] == 1
    assert Commission.objects.get(client_key=f"network:{net['id']}").state == Commission.State.ACCEPTED
    with django_capture_on_commit_callbacks(execute=True):
        assert member_api.delete(f"{V2}/networks/{net['id']}").status_code == 204
    row = usage_of(project, charges.NETWORKS)
    assert (row["usage"], row["pending"]) == (0, 0)


def test_network_charge_is_rejected_when_the_create_fails_after_issuing(admin_api, admin_project):
    attrs = {"provider:network_type": "vlan", "provider:physical_network": "p", "provider:segmentation_id": 9}
    make_network(admin_api, **attrs)
    assert admin_api.post(f"{V2}/networks", {"network": attrs}, format="json").status_code == 409
    states = sorted(Commission.objects.filter(client=charges.CLIENT).values_list("state", flat=True))
    assert states == [Commission.State.PENDING, Commission.State.REJECTED]
    assert usage_of(admin_project, charges.NETWORKS)["pending"] == 1


def test_external_networks_are_not_charged_when_created(admin_api, admin_project):
    quotas.set_limit(admin_project, charges.NETWORKS, 0, actor=None)
    assert make_network(admin_api, **{"router:external": True})["router:external"] is True
    assert admin_api.post(f"{V2}/networks", {"network": {}}, format="json").status_code == 409


def test_floating_ip_is_409_over_quota_when_limit_is_reached(member_api, project, public_net):
    quotas.set_limit(project, charges.FLOATING_IPS, 1, actor=None)
    body = {"floatingip": {"floating_network_id": public_net["id"]}}
    created(member_api.post(f"{V2}/floatingips", body, format="json"), "floatingip")
    response = member_api.post(f"{V2}/floatingips", body, format="json")
    assert response.status_code == 409
    assert fault(response)["message"] == "Quota exceeded for resources: ['floatingip']."


def test_floating_ip_release_returns_quota_when_deleted(
    member_api, project, public_net, django_capture_on_commit_callbacks
):
    quotas.set_limit(project, charges.FLOATING_IPS, 1, actor=None)
    body = {"floatingip": {"floating_network_id": public_net["id"]}}
    with django_capture_on_commit_callbacks(execute=True):
        fip = created(member_api.post(f"{V2}/floatingips", body, format="json"), "floatingip")
        member_api.delete(f"{V2}/floatingips/{fip['id']}")
    created(member_api.post(f"{V2}/floatingips", body, format="json"), "floatingip")


def test_resolver_accepts_charges_of_existing_objects_only_when_settling_crashes(member_api, project):
    net = make_network(member_api)
    pending = Commission.objects.get(client_key=f"network:{net['id']}")
    assert charges.resolve(pending) is True
    ghost = Commission(client=charges.CLIENT, client_key=f"network:{uuid.uuid4()}", project=project)
    assert charges.resolve(ghost) is False
    assert charges.resolve(Commission(client=charges.CLIENT, client_key="release:network:x")) is True
    assert charges.resolve(Commission(client=charges.CLIENT, client_key="floatingip:junk")) is False


def test_quota_show_lists_limits_and_details_list_usage_when_member_asks(member_api, project):
    make_network(member_api)
    quota = member_api.get(f"{V2}/quotas/{project.pk}").json()["quota"]
    assert (quota["network"], quota["floatingip"], quota["port"]) == (10, 5, -1)
    details = member_api.get(f"{V2}/quotas/{project.pk}/details.json").json()["quota"]
    assert details["network"] == {"limit": 10, "used": 0, "reserved": 1}
    assert details["subnet"] == {"limit": -1, "used": 0, "reserved": 0}
    defaults = member_api.get(f"{V2}/quotas/{project.pk}/default").json()["quota"]
    assert defaults["network"] == 10


def test_quota_update_is_admin_only_and_reset_restores_defaults_when_deleted(admin_api, member_api, project):
    body = {"quota": {"network": 3, "floatingip": -1}}
    assert member_api.put(f"{V2}/quotas/{project.pk}", body, format="json").status_code == 403
    quota = admin_api.put(f"{V2}/quotas/{project.pk}", body, format="json").json()["quota"]
    assert (quota["network"], quota["floatingip"]) == (3, -1)
    assert [q["project_id"] for q in admin_api.get(f"{V2}/quotas").json()["quotas"]] == [project.pk]
    assert admin_api.delete(f"{V2}/quotas/{project.pk}").status_code == 204
    assert member_api.get(f"{V2}/quotas/{project.pk}").json()["quota"]["network"] == 10


@pytest.mark.parametrize("body", [{"quota": {"port": 5}}, {"quota": {"network": -2}}, {"quota": {"bogus": 1}}])
def test_quota_update_is_400_when_resource_or_value_is_not_supported(admin_api, project, body):
    assert admin_api.put(f"{V2}/quotas/{project.pk}", body, format="json").status_code == 400


def test_quota_of_another_project_is_403_when_member_asks(member_api, other_project):
    assert member_api.get(f"{V2}/quotas/{other_project.pk}").status_code == 403
    assert member_api.get(f"{V2}/quotas").status_code == 403
