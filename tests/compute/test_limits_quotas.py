"""Limits, quota sets (from the identity ledger) and availability zones."""

from __future__ import annotations

import pytest

from backend_ganeti.models import Cluster
from identity.services import quotas

pytestmark = pytest.mark.django_db


def test_limits_show_ledger_limits_and_usage_when_servers_exist(nova, project, booted):
    absolute = nova.get("/limits").json()["limits"]["absolute"]
    assert (absolute["maxTotalInstances"], absolute["totalInstancesUsed"]) == (10, 1)
    assert (absolute["maxTotalCores"], absolute["totalCoresUsed"]) == (20, 1)
    assert (absolute["maxTotalRAMSize"], absolute["totalRAMUsed"]) == (51200, 512)
    assert "maxImageMeta" not in absolute and "maxTotalFloatingIps" not in absolute
    old = nova.get("/limits", version="2.1").json()["limits"]["absolute"]
    assert old["maxImageMeta"] == 128 and old["maxTotalFloatingIps"] == 5


def test_quota_set_reads_ledger_and_admin_sets_and_resets_it(nova, admin_nova, project):
    path = f"/os-quota-sets/{project.pk}"
    assert nova.get(path).json()["quota_set"]["instances"] == 10
    assert nova.put(path, {"quota_set": {"instances": 3}}).status_code == 403
    updated = admin_nova.put(path, {"quota_set": {"instances": 3, "cores": -1, "force": True}})
    assert updated.status_code == 200 and updated.json()["quota_set"]["instances"] == 3
    body = nova.get(path).json()["quota_set"]
    assert (body["instances"], body["cores"], body["id"]) == (3, -1, project.pk)
    assert nova.get(f"{path}/defaults").json()["quota_set"]["instances"] == 10
    assert admin_nova.delete(path).status_code == 202
    assert nova.get(path).json()["quota_set"]["cores"] == 20


def test_quota_set_for_a_user_shows_project_limits_but_cannot_be_set_when_user_id_given(
    nova, admin_nova, project, member
):
    path = f"/os-quota-sets/{project.pk}?user_id={member.pk}"
    body = nova.get(path).json()["quota_set"]
    assert (body["id"], body["instances"], body["cores"]) == (project.pk, 10, 20)
    assert admin_nova.put(path, {"quota_set": {"instances": 3}}).status_code == 400


def test_quota_detail_shows_in_use_and_reserved(nova, project, booted):
    detail = nova.get(f"/os-quota-sets/{project.pk}/detail").json()["quota_set"]
    assert detail["instances"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert detail["ram"]["in_use"] == 512


@pytest.mark.parametrize(
    "quota_set", [{"instances": -2}, {"instances": "many"}, {"unknown": 1}, {"key_pairs": 5}, {"instances": True}]
)
def test_quota_update_refuses_bad_values(admin_nova, project, quota_set):
    assert admin_nova.put(f"/os-quota-sets/{project.pk}", {"quota_set": quota_set}).status_code == 400


def test_quota_of_another_project_is_403_for_member(nova, other_project):
    assert nova.get(f"/os-quota-sets/{other_project.pk}").status_code == 403
    assert nova.get(f"/limits?tenant_id={other_project.pk}").status_code == 403


def test_quota_blocks_boot_once_admin_lowers_it(nova, admin_nova, project, image, flavors, cluster, inline_jobs):
    admin_nova.put(f"/os-quota-sets/{project.pk}", {"quota_set": {"instances": 1}})
    nova.boot(image, "1")
    body = {"server": {"name": "two", "imageRef": image, "flavorRef": "1", "networks": "none"}}
    response = nova.post("/servers", body)
    assert response.status_code == 403
    assert "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances" in response.content.decode()
    quotas.set_limit(project, "compute.servers", 2, actor=None)
    assert nova.post("/servers", body).status_code == 202


def test_zones_list_usable_clusters_and_admin_sees_nodes(nova, admin_nova, cluster):
    make_private = Cluster.objects.create(name="private", kind="ganeti", endpoint="https://x.invalid", public=False)
    zones = nova.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert zones == [{"zoneName": "embedded", "zoneState": {"available": True}, "hosts": None}]
    assert nova.get("/os-availability-zone/detail").status_code == 403
    detail = admin_nova.get("/os-availability-zone/detail").json()["availabilityZoneInfo"]
    assert [z["zoneName"] for z in detail] == ["embedded", make_private.name]
