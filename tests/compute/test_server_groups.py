"""os-server-groups: API shapes (tempest's schemas), quotas through the ledger, the `group` scheduler
hint, and placement by policy on a fake cluster with two nodes."""

from __future__ import annotations

import uuid

import pytest

from backend_ganeti.models import Node
from compute.models import Server
from tests.compute.helpers import fault
from tests.compute.tempest_schemas import assert_valid

pytestmark = pytest.mark.django_db


def create(nova, policy: str = "anti-affinity", name: str = "g", **kw) -> dict:
    response = nova.post("/os-server-groups", {"server_group": {"name": name, "policies": [policy]}}, **kw)
    assert response.status_code == 200, response.content
    return response.json()["server_group"]


def boot_in(nova, image: str, group_id: str) -> dict:
    body = {
        "server": {"name": "m", "imageRef": image, "flavorRef": "1", "networks": "none"},
        "os:scheduler_hints": {"group": group_id},
    }
    response = nova.post("/servers", body)
    assert response.status_code == 202, response.content
    return response.json()["server"]


def node_of(server_id: str) -> str:
    return Server.objects.select_related("instance").get(pk=server_id).instance.primary_node


@pytest.fixture
def nodes(cluster) -> list[Node]:
    """Two usable nodes on the fake cluster (node1 has more free memory)."""
    return [
        Node.objects.create(cluster=cluster, name="node1", mfree=4096, dfree=10**6, ctotal=8),
        Node.objects.create(cluster=cluster, name="node2", mfree=2048, dfree=10**6, ctotal=8),
    ]


@pytest.fixture
def booting(image, flavors, cluster, nodes, inline_jobs) -> str:
    """What a boot into a group needs; the image id."""
    return image


def test_create_show_list_delete_have_nova_shapes_when_at_2_13(nova):
    group = create(nova, name="web")
    assert group["name"] == "web" and group["policies"] == ["anti-affinity"]
    assert (group["members"], group["metadata"]) == ([], {})
    assert (group["project_id"], group["user_id"]) == (str(nova.project.pk), str(nova.user.pk))
    shown = nova.get(f"/os-server-groups/{group['id']}").json()["server_group"]
    assert shown == group
    assert [g["id"] for g in nova.get("/os-server-groups").json()["server_groups"]] == [group["id"]]
    assert nova.delete(f"/os-server-groups/{group['id']}").status_code == 204
    assert nova.get(f"/os-server-groups/{group['id']}").status_code == 404
    old = create(nova, version="2.12")
    assert "project_id" not in old and "user_id" not in old


def test_soft_policies_are_400_before_2_15_and_accepted_from_it(nova):
    response = nova.post("/os-server-groups", {"server_group": {"name": "g", "policies": ["soft-affinity"]}},
                         version="2.14")  # fmt: skip
    assert response.status_code == 400
    assert create(nova, "soft-anti-affinity", version="2.15")["policies"] == ["soft-anti-affinity"]


@pytest.mark.parametrize(
    "body",
    [
        {"server_group": {"policies": ["affinity"]}},
        {"server_group": {"name": "g"}},
        {"server_group": {"name": "g", "policies": ["affinity", "anti-affinity"]}},
        {"server_group": {"name": "g", "policies": []}},
        {"server_group": {"name": "g", "policies": ["spread"]}},
        {"server_group": {"name": "g", "policies": "affinity"}},
        {"server_group": {"name": " g", "policies": ["affinity"]}},
        {"server_group": {"name": "g", "policies": ["affinity"], "rules": {}}},
        {"server_group": "g"},
        {},
    ],
)
def test_create_is_400_when_body_is_invalid(nova, body):
    response = nova.post("/os-server-groups", body)
    assert response.status_code == 400, response.content
    assert fault(response)["message"]


def test_other_projects_groups_are_404_and_only_admins_list_all_projects(nova, other_nova, admin_nova):
    group = create(nova)
    assert other_nova.get(f"/os-server-groups/{group['id']}").status_code == 404
    assert other_nova.delete(f"/os-server-groups/{group['id']}").status_code == 404
    assert other_nova.get("/os-server-groups?all_projects=True").json()["server_groups"] == []
    assert nova.get(f"/os-server-groups/{uuid.uuid4()}").status_code == 404
    assert nova.get("/os-server-groups/not-a-uuid").status_code == 404
    assert admin_nova.get("/os-server-groups").json()["server_groups"] == []
    listed = admin_nova.get("/os-server-groups?all_projects=True").json()["server_groups"]
    assert [g["id"] for g in listed] == [group["id"]]
    assert len(admin_nova.get("/os-server-groups?all_projects").json()["server_groups"]) == 1
    assert admin_nova.get("/os-server-groups?all_projects=false").json()["server_groups"] == []
    assert admin_nova.get(f"/os-server-groups/{group['id']}").status_code == 200


def test_list_pages_with_limit_and_offset(nova):
    ids = [create(nova, name=f"g{i}")["id"] for i in range(3)]
    page = nova.get("/os-server-groups?limit=2&offset=1").json()["server_groups"]
    assert [g["id"] for g in page] == ids[1:3]
    assert nova.get("/os-server-groups?offset=-1").status_code == 400


def test_group_quota_is_charged_refunded_and_403_when_full(nova, admin_nova):
    project = nova.project.pk
    assert admin_nova.put(f"/os-quota-sets/{project}", {"quota_set": {"server_groups": 1}}).status_code == 200
    group = create(nova)
    response = nova.post("/os-server-groups", {"server_group": {"name": "h", "policies": ["affinity"]}})
    assert response.status_code == 403
    assert fault(response)["message"] == "Quota exceeded, too many server groups."
    detail = nova.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]
    assert detail["server_groups"] == {"limit": 1, "in_use": 1, "reserved": 0}
    absolute = nova.get("/limits").json()["limits"]["absolute"]
    assert (absolute["maxServerGroups"], absolute["totalServerGroupsUsed"]) == (1, 1)
    nova.delete(f"/os-server-groups/{group['id']}")
    assert nova.get(f"/os-quota-sets/{project}/detail").json()["quota_set"]["server_groups"]["in_use"] == 0
    create(nova)


def test_member_quota_is_per_group_and_403_when_group_full(nova, admin_nova, booting):
    project = nova.project.pk
    admin_nova.put(f"/os-quota-sets/{project}", {"quota_set": {"server_group_members": 1}})
    assert nova.get(f"/os-quota-sets/{project}").json()["quota_set"]["server_group_members"] == 1
    assert nova.get("/limits").json()["limits"]["absolute"]["maxServerGroupMembers"] == 1
    first, second = create(nova, "soft-affinity"), create(nova, "soft-affinity", name="other")
    boot_in(nova, booting, first["id"])
    body = {
        "server": {"name": "m", "imageRef": booting, "flavorRef": "1", "networks": "none"},
        "os:scheduler_hints": {"group": first["id"]},
    }
    response = nova.post("/servers", body)
    assert response.status_code == 403
    assert fault(response)["message"] == "Quota exceeded, too many servers in group"
    assert Server.objects.count() == 1
    boot_in(nova, booting, second["id"])


def test_boot_with_group_hint_adds_member_and_delete_removes_it(nova, booting):
    group = create(nova)
    server = boot_in(nova, booting, group["id"])
    assert nova.get(f"/os-server-groups/{group['id']}").json()["server_group"]["members"] == [server["id"]]
    nova.delete(f"/servers/{server['id']}")
    assert nova.get(f"/os-server-groups/{group['id']}").json()["server_group"]["members"] == []


@pytest.mark.parametrize("hint", [str(uuid.uuid4()), "nope", 7])
def test_boot_is_400_when_group_is_unknown_or_not_a_uuid(nova, booting, other_nova, hint):
    body = {
        "server": {"name": "m", "imageRef": booting, "flavorRef": "1", "networks": "none"},
        "os:scheduler_hints": {"group": hint},
    }
    response = nova.post("/servers", body)
    assert response.status_code == 400, response.content
    assert Server.objects.count() == 0


def test_boot_is_400_when_group_belongs_to_another_project(nova, other_nova, booting):
    group = create(other_nova)
    body = {
        "server": {"name": "m", "imageRef": booting, "flavorRef": "1", "networks": "none"},
        "os:scheduler_hints": {"group": group["id"]},
    }
    assert nova.post("/servers", body).status_code == 400


def test_anti_affinity_puts_members_on_different_nodes_then_no_valid_host(nova, admin_nova, booting, cloud):
    group = create(nova, "anti-affinity")
    first, second = boot_in(nova, booting, group["id"]), boot_in(nova, booting, group["id"])
    assert {node_of(first["id"]), node_of(second["id"])} == {"node1", "node2"}
    assert nova.show(first["id"])["status"] == nova.show(second["id"])["status"] == "ACTIVE"
    fake = cloud.cluster("embedded")
    assert {vm.primary_node for vm in fake.vms.values()} == {"node1", "node2"}
    third = boot_in(nova, booting, group["id"])
    shown = admin_nova.show(third["id"])
    assert shown["status"] == "ERROR"
    assert shown["fault"]["message"] == "No valid host was found. "
    assert "placement policy" in shown["fault"]["details"]
    assert len(nova.get(f"/os-server-groups/{group['id']}").json()["server_group"]["members"]) == 3


def test_affinity_puts_members_on_the_same_node_then_no_valid_host_when_it_is_full(nova, booting, nodes):
    group = create(nova, "affinity")
    servers = [boot_in(nova, booting, group["id"]) for _ in range(3)]
    assert {node_of(s["id"]) for s in servers} == {"node1"}
    Node.objects.filter(name="node1").update(mfree=100)
    last = boot_in(nova, booting, group["id"])
    assert nova.show(last["id"])["status"] == "ERROR"


def test_soft_anti_affinity_spreads_then_shares_without_failing(nova, booting):
    group = create(nova, "soft-anti-affinity")
    servers = [boot_in(nova, booting, group["id"]) for _ in range(3)]
    assert {nova.show(s["id"])["status"] for s in servers} == {"ACTIVE"}
    assert {node_of(s["id"]) for s in servers[:2]} == {"node1", "node2"}


def test_soft_affinity_keeps_members_together_and_moves_on_when_full(nova, booting, nodes):
    group = create(nova, "soft-affinity")
    first, second = boot_in(nova, booting, group["id"]), boot_in(nova, booting, group["id"])
    assert node_of(first["id"]) == node_of(second["id"]) == "node1"
    Node.objects.filter(name="node1").update(mfree=100)
    third = boot_in(nova, booting, group["id"])
    assert (nova.show(third["id"])["status"], node_of(third["id"])) == ("ACTIVE", "node2")


def test_anti_affinity_ignores_deleted_members(nova, booting):
    group = create(nova, "anti-affinity")
    first, second = boot_in(nova, booting, group["id"]), boot_in(nova, booting, group["id"])
    nova.delete(f"/servers/{first['id']}")
    third = boot_in(nova, booting, group["id"])
    assert nova.show(third["id"])["status"] == "ACTIVE"
    assert node_of(third["id"]) != node_of(second["id"])


@pytest.mark.parametrize("version", ["2.1", "2.13", "2.15", "2.47"])
def test_responses_match_tempest_schemas_when_at_version(nova, booting, version):
    response = nova.post("/os-server-groups", {"server_group": {"name": "g", "policies": ["affinity"]}},
                         version=version)  # fmt: skip
    assert_valid(response, "server_groups", "create_show_server_group", version)
    group = response.json()["server_group"]
    boot_in(nova, booting, group["id"])
    assert_valid(nova.get(f"/os-server-groups/{group['id']}", version=version), "server_groups",
                 "create_show_server_group", version)  # fmt: skip
    assert_valid(nova.get("/os-server-groups", version=version), "server_groups", "list_server_groups", version)
    assert_valid(nova.get("/limits", version=version), "limits", "get_limit", version)
    assert_valid(nova.get(f"/os-quota-sets/{nova.project.pk}", version=version), "quotas", "get_quota_set", version)
    assert_valid(nova.delete(f"/os-server-groups/{group['id']}", version=version), "server_groups",
                 "delete_server_group", version)  # fmt: skip
