"""Booting servers: the create flow through backend_ganeti (fake cluster), quota, and bad input."""

from __future__ import annotations

import base64

import pytest

from backend_ganeti.models import Cluster, Instance, Job
from compute.models import Server
from compute.network.models import Port
from identity.quota_models import Holding
from identity.services import quotas
from portal.models import AuditEvent
from tests.compute.helpers import fault

pytestmark = pytest.mark.django_db


def held(project, resource: str) -> tuple[int, int]:
    """(usage_min, usage_max) of a project holding."""
    holding = Holding.objects.with_bracket().get(project=project, user=None, resource_id=resource)
    return holding.usage_min, holding.usage_max


def test_boot_reaches_active_with_port_instance_and_quota_when_jobs_run(
    nova, project, image, flavors, network, cluster, cloud, inline_jobs
):
    created = nova.boot(image, "2", network, name="web", metadata={"role": "web"})
    server = nova.show(created["id"])
    assert (server["status"], server["OS-EXT-STS:task_state"], server["OS-EXT-STS:power_state"]) == ("ACTIVE", None, 1)
    assert server["flavor"]["original_name"] == "m1.small" and server["metadata"] == {"role": "web"}
    assert server["OS-EXT-AZ:availability_zone"] == "embedded" and server["hostId"]
    (address,) = server["addresses"]["private"]
    assert address["addr"].startswith("10.10.0.") and address["OS-EXT-IPS:type"] == "fixed"
    row = Server.objects.get(pk=created["id"])
    instance = Instance.objects.get(owner_ref=created["id"])
    assert (row.instance, instance.name, instance.status) == (instance, f"nefos-{row.pk.hex}", "running")
    fake = cloud.cluster("embedded").vms[instance.name]
    assert (fake.vcpus, fake.memory_mb, fake.disks[0].size_mb) == (1, 2048, 20 * 1024)
    assert fake.nics[0].mac == address["OS-EXT-IPS-MAC:mac_addr"] and fake.nics[0].ip == address["addr"]
    assert Port.objects.get(device_id=created["id"]).device_owner == "compute:nova"
    assert held(project, "compute.servers") == (1, 1) and held(project, "compute.ram_mib") == (2048, 2048)
    assert held(project, "compute.disk_gib") == (20, 20) and row.charged["compute.cores"] == 1
    assert AuditEvent.objects.filter(action="server.create", target_id=created["id"]).exists()


def test_boot_answers_202_in_build_and_enqueues_only_on_commit_when_worker_later(
    nova, image, flavors, network, cluster, queued_jobs, run_jobs
):
    created = nova.boot(image, "1", network)
    server = nova.show(created["id"])
    assert (server["status"], server["OS-EXT-STS:vm_state"], server["OS-EXT-STS:task_state"]) == (
        "BUILD",
        "building",
        "spawning",
    )
    assert server["progress"] == 0 and len(queued_jobs) == 1
    run_jobs()
    assert nova.show(created["id"])["status"] == "ACTIVE"


def test_boot_ends_in_error_with_no_valid_host_fault_when_no_cluster_fits(
    nova, admin_nova, project, image, flavors, network, db
):
    created = nova.boot(image, "1", network)
    server = nova.show(created["id"])
    assert server["status"] == "ERROR"
    assert server["fault"]["code"] == 500 and server["fault"]["message"] == "No valid host was found. "
    assert "details" not in server["fault"]
    assert held(project, "compute.servers") == (1, 1)
    assert "details" in admin_nova.show(created["id"])["fault"]
    assert nova.delete(f"/servers/{created['id']}").status_code == 204
    assert held(project, "compute.servers") == (0, 0) and not Port.objects.filter(device_id=created["id"]).exists()


def test_boot_is_403_with_nova_message_and_leaves_nothing_when_over_quota(
    nova, project, member, image, flavors, network, cluster, inline_jobs
):
    quotas.set_limit(project, "compute.cores", 1, actor=None)
    response = nova.post(
        "/servers", {"server": {"name": "big", "imageRef": image, "flavorRef": "3", "networks": [{"uuid": network}]}}
    )
    assert response.status_code == 403
    assert fault(response)["message"] == "Quota exceeded for cores: Requested 2, but already used 0 of 1 cores"
    assert not Server.objects.exists() and not Instance.objects.exists() and not Job.objects.exists()
    assert not Port.objects.filter(device_owner="compute:nova").exists()
    assert Cluster.objects.get().reserved_cpu == 0


def test_boot_creates_as_many_as_quota_allows_when_min_count_below(
    nova, project, image, flavors, network, cluster, inline_jobs
):
    quotas.set_limit(project, "compute.servers", 3, actor=None)
    response = nova.post(
        "/servers",
        {
            "server": {
                "name": "batch",
                "imageRef": image,
                "flavorRef": "1",
                "networks": [{"uuid": network}],
                "min_count": 2,
                "max_count": 5,
                "return_reservation_id": True,
            }
        },
    )
    assert response.status_code == 202
    reservation = response.json()["reservation_id"]
    rows = Server.objects.filter(reservation_id=reservation).order_by("launch_index")
    assert [s.name for s in rows] == ["batch-1", "batch-2", "batch-3"]
    listed = nova.get(f"/servers?reservation_id={reservation}").json()["servers"]
    assert len(listed) == 3


def test_boot_is_403_when_min_count_exceeds_quota(nova, project, image, flavors, network, cluster, inline_jobs):
    quotas.set_limit(project, "compute.servers", 1, actor=None)
    body = {"name": "b", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}], "min_count": 2}
    assert nova.post("/servers", {"server": body}).status_code == 403
    assert not Server.objects.exists()


def test_boot_accepts_osc_block_device_mapping_when_it_names_the_boot_image(
    nova, image, flavors, network, cluster, inline_jobs
):
    bdm = [{"uuid": image, "boot_index": 0, "source_type": "image", "destination_type": "local"}]
    body = {"name": "osc", "imageRef": image, "flavorRef": "1", "networks": "auto", "block_device_mapping_v2": bdm}
    response = nova.post("/servers", {"server": body})
    assert response.status_code == 202, response.content
    assert nova.show(response.json()["server"]["id"])["image"]["id"] == image


def test_boot_auto_network_uses_project_default_network_when_networks_auto(nova, image, flavors, cluster, inline_jobs):
    created = nova.boot(image, "1", None, networks="auto")
    assert list(nova.show(created["id"])["addresses"]) != []


def test_boot_keeps_key_user_data_and_description_when_given(nova, image, flavors, cluster, inline_jobs, admin_nova):
    nova.post("/os-keypairs", {"keypair": {"name": "mykey"}})
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    created = nova.boot(image, "1", key_name="mykey", user_data=user_data, description="a server")
    server = nova.show(created["id"])
    assert (server["key_name"], server["description"]) == ("mykey", "a server")
    row = Server.objects.get(pk=created["id"])
    assert row.key_data.startswith("ssh-ed25519 ") and row.user_data == user_data


def test_boot_in_named_zone_uses_that_cluster_when_zone_given(nova, image, flavors, cluster, inline_jobs):
    created = nova.boot(image, "1", availability_zone="embedded")
    assert nova.show(created["id"])["OS-EXT-AZ:availability_zone"] == "embedded"


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"imageRef": "00000000-0000-0000-0000-000000000000"}, 400, "Can not find requested image"),
        ({"imageRef": "not-a-uuid"}, 400, "Can not find requested image"),
        ({"imageRef": ""}, 400, "Can not find requested image"),
        ({"flavorRef": "999"}, 400, "Flavor 999 could not be found."),
        ({"flavorRef": 7}, 400, "flavorRef"),
        ({"key_name": "missing"}, 400, "Invalid key_name provided."),
        ({"user_data": "not base64!"}, 400, "User data needs to be valid base 64."),
        ({"user_data": "QQ==" * 16384}, 400, "too long"),
        ({"networks": [{"uuid": "not-a-uuid"}]}, 400, "uuid"),
        ({"networks": [{"uuid": "00000000-0000-0000-0000-000000000000"}]}, 400, "00000000"),
        ({"networks": [{"port": "00000000-0000-0000-0000-000000000000"}]}, 400, "00000000"),
        ({"networks": [{"fixed_ip": "10.0.0.1"}]}, 400, "exactly one of"),
        ({"networks": [{"uuid": "00000000-0000-0000-0000-000000000000", "fixed_ip": "300.1.1.1"}]}, 400, "fixed IP"),
        ({"networks": "everything"}, 400, "networks"),
        ({"metadata": {"k": 1}}, 400, "metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(129)}}, 403, "metadata_items"),
        ({"min_count": 3, "max_count": 2}, 400, "min_count"),
        ({"min_count": 0}, 400, "min_count"),
        ({"availability_zone": "nowhere"}, 400, "availability zone"),
        ({"name": " padded "}, 400, "name"),
        ({"name": ""}, 400, "name"),
        ({"personality": [{"path": "/etc/x", "contents": "eA=="}]}, 400, "Personality"),
        ({"no_such_attribute": 1}, 400, "Additional properties"),
        ({"accessIPv4": "1.2.3"}, 400, "accessIPv4"),
        (
            {"block_device_mapping_v2": [{"source_type": "volume", "uuid": "x", "destination_type": "volume"}]},
            400,
            "volume",
        ),
        (
            {"block_device_mapping_v2": [{"source_type": "blank", "destination_type": "local", "volume_size": 1}]},
            400,
            "blank",
        ),
    ],
)
def test_boot_refuses_bad_input_with_clear_error_when_invalid(
    nova, image, flavors, network, cluster, inline_jobs, changes, status, message
):
    body = {"name": "vm", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}], **changes}
    response = nova.post("/servers", {"server": body})
    assert response.status_code == status, response.content
    assert message in fault(response)["message"]
    assert not Server.objects.exists()


def test_boot_requires_networks_from_237_but_defaults_to_auto_before(nova, image, flavors, cluster, inline_jobs):
    body = {"server": {"name": "vm", "imageRef": image, "flavorRef": "1"}}
    assert nova.post("/servers", body, version="2.37").status_code == 400
    assert nova.post("/servers", body, version="2.36").status_code == 202


def test_boot_refuses_description_before_219(nova, image, flavors, network, cluster):
    body = {"server": {"name": "vm", "imageRef": image, "flavorRef": "1", "description": "d"}}
    assert nova.post("/servers", body, version="2.18").status_code == 400


def test_boot_refuses_private_flavor_of_another_project_as_unknown(
    nova, admin_nova, image, flavors, network, cluster, other_project
):
    admin_nova.post("/flavors", {"flavor": {"name": "p", "id": "p1", "ram": 64, "vcpus": 1, "disk": 1,
                                             "os-flavor-access:is_public": False}})  # fmt: skip
    admin_nova.post("/flavors/p1/action", {"addTenantAccess": {"tenant": other_project.pk}})
    body = {"server": {"name": "vm", "imageRef": image, "flavorRef": "p1", "networks": "none"}}
    response = nova.post("/servers", body)
    assert response.status_code == 400 and "Flavor p1 could not be found." in fault(response)["message"]


def test_boot_refused_for_reader_with_403(reader_nova, image, flavors, cluster):
    body = {"server": {"name": "vm", "imageRef": image, "flavorRef": "1", "networks": "none"}}
    assert reader_nova.post("/servers", body).status_code == 403


def test_boot_refuses_non_object_body_with_400(nova):
    for body in ([], "x", {"server": []}, {"server": None}, {"servers": {}}):
        assert nova.post("/servers", body).status_code == 400


def test_boot_and_update_store_access_ips_canonically_when_written_long_form(
    nova, image, flavors, cluster, inline_jobs
):
    long_v6 = "0000:0000:0000:0000:0000:babe:220.12.22.2"
    created = nova.boot(image, "1", accessIPv4="1.1.1.1", accessIPv6=long_v6)
    server = nova.show(created["id"])
    assert (server["accessIPv4"], server["accessIPv6"]) == ("1.1.1.1", "::babe:dc0c:1602")
    response = nova.put(f"/servers/{created['id']}", {"server": {"accessIPv6": "2001:0DB8:0000::0001"}})
    assert response.status_code == 200
    assert nova.show(created["id"])["accessIPv6"] == "2001:db8::1"


def test_boot_is_400_and_leaves_nothing_when_security_group_unknown(
    nova, image, flavors, network, cluster, inline_jobs
):
    body = {"name": "vm", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}]}
    body["security_groups"] = [{"name": "no-such-group"}]
    response = nova.post("/servers", {"server": body})
    assert response.status_code == 400
    assert fault(response)["message"] == "Security group no-such-group not found."
    assert not Server.objects.exists() and not Port.objects.exists()
