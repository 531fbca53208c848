"""Every response shape against tempest's strict schemas, at each microversion where one changes."""

from __future__ import annotations

import pytest

from backend_ganeti.models import Cluster
from tests.compute.tempest_schemas import assert_valid, require
from tests.factories import assign

pytestmark = pytest.mark.django_db

VERSIONS = [
    "2.1",
    "2.2",
    "2.3",
    "2.6",
    "2.9",
    "2.10",
    "2.16",
    "2.19",
    "2.26",
    "2.35",
    "2.36",
    "2.37",
    "2.39",
    "2.45",
    "2.47",
]


@pytest.fixture(autouse=True)
def _tempest():
    require()


def _at_least(version: str, minor: int) -> bool:
    return int(version.split(".")[1]) >= minor


@pytest.fixture(params=["member", "admin"])
def who(request, nova, nova_for, project, admin_user):
    """Both policies: a member, and an admin acting inside the member's project."""
    if request.param == "member":
        return nova
    assign(admin_user, project, "admin", "member", "reader")
    return nova_for(admin_user, project, ("admin", "member", "reader"))


@pytest.mark.parametrize("version", VERSIONS)
def test_server_responses_match_tempest_schemas_when_at_version(
    who, version, image, flavors, network, cluster, inline_jobs
):
    who.version = version
    created = who.post(
        "/servers", {"server": {"name": "vm", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}]}}
    )
    assert_valid(created, "servers", "create_server", version)
    server_id = created.json()["server"]["id"]
    assert_valid(who.get("/servers"), "servers", "list_servers", version)
    assert_valid(who.get("/servers/detail"), "servers", "list_servers_detail", version)
    assert_valid(who.get(f"/servers/{server_id}"), "servers", "get_server", version)
    assert_valid(who.put(f"/servers/{server_id}", {"server": {"name": "renamed"}}), "servers", "update_server", version)
    assert_valid(who.get(f"/servers/{server_id}/metadata"), "servers", "list_server_metadata", version)
    assert_valid(
        who.post(f"/servers/{server_id}/metadata", {"metadata": {"a": "1"}}),
        "servers",
        "update_server_metadata",
        version,
    )
    assert_valid(
        who.put(f"/servers/{server_id}/metadata", {"metadata": {"b": "2"}}), "servers", "set_server_metadata", version
    )
    assert_valid(
        who.put(f"/servers/{server_id}/metadata/c", {"meta": {"c": "3"}}),
        "servers",
        "set_show_server_metadata_item",
        version,
    )
    assert_valid(who.get(f"/servers/{server_id}/metadata/c"), "servers", "set_show_server_metadata_item", version)
    assert_valid(who.delete(f"/servers/{server_id}/metadata/c"), "servers", "delete_server_metadata_item", version)
    assert_valid(who.get(f"/servers/{server_id}/ips"), "servers", "list_addresses", version)
    assert_valid(who.get(f"/servers/{server_id}/ips/private"), "servers", "list_addresses_by_network", version)
    if _at_least(version, 26):
        assert_valid(who.put(f"/servers/{server_id}/tags/t1"), "servers", "update_tag", version)
        assert_valid(who.get(f"/servers/{server_id}/tags/t1"), "servers", "check_tag_existence", version)
        assert_valid(who.put(f"/servers/{server_id}/tags", {"tags": ["a", "b"]}), "servers", "update_all_tags", version)
        assert_valid(who.get(f"/servers/{server_id}/tags"), "servers", "list_tags", version)
        assert_valid(who.get(f"/servers/{server_id}"), "servers", "get_server", version)
        assert_valid(who.delete(f"/servers/{server_id}/tags/a"), "servers", "delete_tag", version)
        assert_valid(who.delete(f"/servers/{server_id}/tags"), "servers", "delete_all_tags", version)
    if _at_least(version, 6):
        body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
        assert_valid(who.post(f"/servers/{server_id}/remote-consoles", body), "servers", "get_remote_consoles", version)
    else:
        console = who.action(server_id, "os-getVNCConsole", {"type": "novnc"})
        assert_valid(console, "servers", "get_vnc_console", version)
    assert_valid(who.action(server_id, "os-stop"), "servers", "server_actions_common_schema", version)
    assert_valid(who.get("/servers/detail"), "servers", "list_servers_detail", version)
    assert_valid(who.action(server_id, "os-start"), "servers", "server_actions_common_schema", version)
    assert_valid(
        who.action(server_id, "resize", {"flavorRef": "2"}), "servers", "server_actions_common_schema", version
    )
    assert_valid(who.get(f"/servers/{server_id}"), "servers", "get_server", version)
    assert_valid(who.action(server_id, "confirmResize"), "servers", "server_actions_confirm_resize", version)
    assert_valid(who.delete(f"/servers/{server_id}"), "servers", "delete_server", version)


@pytest.mark.parametrize("version", ["2.1", "2.19", "2.47"])
def test_error_server_with_fault_matches_tempest_schema_when_no_cluster_fits(who, version, image, flavors, network, db):
    Cluster.objects.all().delete()
    who.version = version
    created = who.post(
        "/servers", {"server": {"name": "vm", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}]}}
    )
    server = who.get(f"/servers/{created.json()['server']['id']}")
    assert server.json()["server"]["status"] == "ERROR"
    assert_valid(server, "servers", "get_server", version)
    assert_valid(who.get("/servers/detail"), "servers", "list_servers_detail", version)


@pytest.mark.parametrize("version", ["2.1", "2.47"])
def test_flavor_responses_match_tempest_schemas_when_at_version(nova, admin_nova, version, flavors):
    nova.version = admin_nova.version = version
    assert_valid(nova.get("/flavors"), "flavors", "list_flavors", version)
    assert_valid(nova.get("/flavors/detail"), "flavors", "list_flavors_details", version)
    assert_valid(nova.get("/flavors/1"), "flavors", "create_update_get_flavor_details", version)
    body = {"flavor": {"name": "x1", "ram": 256, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": False}}
    created = admin_nova.post("/flavors", body)
    assert_valid(created, "flavors", "create_update_get_flavor_details", version)
    flavor_id = created.json()["flavor"]["id"]
    specs = admin_nova.post(f"/flavors/{flavor_id}/os-extra_specs", {"extra_specs": {"nefos:disk_template": "file"}})
    assert_valid(specs, "flavors_extra_specs", "set_get_flavor_extra_specs", version)
    key = admin_nova.get(f"/flavors/{flavor_id}/os-extra_specs/nefos:disk_template")
    assert_valid(key, "flavors_extra_specs", "set_get_flavor_extra_specs_key", version)
    access = admin_nova.post(f"/flavors/{flavor_id}/action", {"addTenantAccess": {"tenant": nova.project.pk}})
    assert_valid(access, "flavors_access", "add_remove_list_flavor_access", version)
    assert_valid(
        admin_nova.get(f"/flavors/{flavor_id}/os-flavor-access"),
        "flavors_access",
        "add_remove_list_flavor_access",
        version,
    )
    assert_valid(admin_nova.delete(f"/flavors/{flavor_id}"), "flavors", "delete_flavor", version)


@pytest.mark.parametrize("version", ["2.1", "2.2", "2.10", "2.35", "2.47"])
def test_keypair_responses_match_tempest_schemas_when_at_version(nova, version):
    nova.version = version
    assert_valid(nova.post("/os-keypairs", {"keypair": {"name": "k1"}}), "keypairs", "create_keypair", version)
    assert_valid(nova.get("/os-keypairs/k1"), "keypairs", "get_keypair", version)
    assert_valid(nova.get("/os-keypairs"), "keypairs", "list_keypairs", version)
    assert_valid(nova.delete("/os-keypairs/k1"), "keypairs", "delete_keypair", version)


@pytest.mark.parametrize("version", ["2.1", "2.36", "2.39", "2.47"])
def test_limit_and_quota_responses_match_tempest_schemas_when_at_version(nova, admin_nova, version, cluster):
    nova.version = admin_nova.version = version
    project_id = nova.project.pk
    assert_valid(nova.get("/limits"), "limits", "get_limit", version)
    assert_valid(nova.get(f"/os-quota-sets/{project_id}"), "quotas", "get_quota_set", version)
    assert_valid(nova.get(f"/os-quota-sets/{project_id}/defaults"), "quotas", "get_quota_set", version)
    assert_valid(nova.get(f"/os-quota-sets/{project_id}/detail"), "quotas", "get_quota_set_details", version)
    update = admin_nova.put(f"/os-quota-sets/{project_id}", {"quota_set": {"instances": 20}})
    assert_valid(update, "quotas", "update_quota_set", version)
    assert_valid(admin_nova.delete(f"/os-quota-sets/{project_id}"), "quotas", "delete_quota", version)
    assert_valid(nova.get("/os-availability-zone"), "availability_zone", "list_availability_zone_list", version)
    detail = admin_nova.get("/os-availability-zone/detail")
    assert_valid(detail, "availability_zone", "list_availability_zone_list_detail", version)


def test_version_documents_match_tempest_schemas(db):
    from rest_framework.test import APIClient

    assert_valid(APIClient().get("/compute/v2.1"), "versions", "get_one_version", "2.1")
    assert_valid(APIClient().get("/compute/"), "versions", "list_versions", "2.1")
