"""Nova, Neutron and Cinder end to end on a real Ganeti cluster (the lab's cluster B, Ganeti 3.0.2).

Issue 5's compute flow through the API views with real signed tokens, on the lab's one-node
cluster B (zone `lab-b`, `file` disk template, Ganeti's `fake` hypervisor, the no-op OS
definition): a network, subnet and port made through Neutron; a server booted on the port and the
network to ACTIVE and seen in `gnt-instance list` with the port's MAC and address; stop, start,
soft and hard reboot; resize to a flavor with more RAM and a larger root disk (Ganeti's modify, then its
grow-disk) and confirm; a Cinder volume attached (a new disk named after it in the instance) and
detached (Ganeti keeps the disk, attached to nothing); the volume deleted while the server is
stopped (the fake hypervisor cannot hot-unplug); the server deleted: gone from Ganeti, its quota
and its ports given back. A second test boots three servers without a zone (backend_ganeti's
allocator spreads them over clusters A and B; on A, Ganeti's hail picks the node) and resizes
one, then reverts. The backend's jobs run in-process with the Celery task's body
(`tasks.run_job`, through `lab_portal.run_jobs`). Skipped unless NEFOS_LAB_RAPI names a running
lab (`NEFOS_LAB_RAPI=<lab>/rapi.json pytest -m ganeti tests/compute`); exec needs root.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend_ganeti.models import Instance, Job
from backend_ganeti.rapi import NotFound
from compute.volume.services.types import seed_volume_types
from tests.backend_ganeti.conftest import lab  # noqa: F401 - the lab's endpoints fixture
from tests.compute.helpers import Nova

pytestmark = [pytest.mark.ganeti, pytest.mark.django_db(transaction=True)]
pytest_plugins = ["tests.backend_ganeti.lab_services"]

CONFIG = "/var/lib/ganeti/config.data"
LIST_FIELDS = "name,status,pnode,disk_template,be/vcpus,be/maxmem,disk.sizes,disk.names,nic.macs,nic.ips"
FILE = {"nefos:disk_template": "file"}


def _call(nova: Nova, method: str, url: str, body: Any = None) -> Any:
    """A request to another service (Neutron under /network, Cinder under /volume) with the Nova client's token."""
    extra = {"HTTP_X_AUTH_TOKEN": nova.token}
    handler = getattr(nova.client, method)
    if body is None:
        return handler(url, **extra)
    return handler(url, json.dumps(body), content_type="application/json", **extra)


def _ok(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json() if response.content else {}


def _gnt_list(lab_portal, node: str) -> dict[str, dict[str, str]]:
    """`gnt-instance list` on the master, by instance name."""
    out = lab_portal.node_exec(
        node, "gnt-instance", "list", "--no-headers", "--units=m", "--separator=|", "-o", LIST_FIELDS
    )
    keys = LIST_FIELDS.split(",")
    rows = [dict(zip(keys, line.split("|"), strict=True)) for line in out.splitlines() if line.strip()]
    return {row["name"]: row for row in rows}


def _ganeti_disks(lab_portal, node: str) -> dict[str, dict]:
    """Every disk in the cluster's configuration by name, attached or not (no gnt-* lists detached disks)."""
    script = f"import json;c=json.load(open('{CONFIG}'));print(json.dumps(list(c['disks'].values())))"
    return {d["name"]: d for d in json.loads(lab_portal.node_exec(node, "python3", "-c", script)) if d.get("name")}


def _on_cluster(lab_portal, key: str, name: str):
    """What cluster `key`'s RAPI says about instance `name` (None when it has none)."""
    driver = lab_portal.driver(key)
    try:
        return driver.instance(name)
    except NotFound:
        return None
    finally:
        driver.close()


def _flavor(admin_nova: Nova, flavor_id: str, *, ram: int, disk: int) -> None:
    """A public flavor of the file template, small enough for the lab's instance policy."""
    body = {"flavor": {"name": flavor_id, "id": flavor_id, "ram": ram, "vcpus": 1, "disk": disk}}
    _ok(admin_nova.post("/flavors", body), 200)
    _ok(admin_nova.post(f"/flavors/{flavor_id}/os-extra_specs", {"extra_specs": FILE}), 200)


def _limits(nova: Nova) -> tuple[int, int, int]:
    absolute = _ok(nova.get("/limits"), 200)["limits"]["absolute"]
    return absolute["totalInstancesUsed"], absolute["totalCoresUsed"], absolute["totalRAMUsed"]


def test_server_lifecycle_network_and_volume_reach_ganeti_when_driven_through_apis(
    lab_portal, nova, admin_nova, image, project
):
    (b1,) = lab_portal.nodes("b")
    seed_volume_types()
    _flavor(admin_nova, "lab-small", ram=128, disk=1)
    _flavor(admin_nova, "lab-grown", ram=256, disk=2)
    volumes = f"/volume/v3/{project.pk}/volumes"

    # Neutron: a network, its subnet and a port the server will be booted on.
    net = _ok(_call(nova, "post", "/network/v2.0/networks", {"network": {"name": "lab-net"}}), 201)["network"]
    subnet_body = {"subnet": {"network_id": net["id"], "cidr": "10.20.0.0/24", "ip_version": 4}}
    _ok(_call(nova, "post", "/network/v2.0/subnets", subnet_body), 201)
    port = _ok(_call(nova, "post", "/network/v2.0/ports", {"port": {"network_id": net["id"]}}), 201)["port"]
    port_ip = port["fixed_ips"][0]["ip_address"]
    assert _limits(nova) == (0, 0, 0)

    # Boot on cluster B: BUILD until the create job ran on Ganeti, then ACTIVE.
    networks = [{"port": port["id"]}, {"uuid": net["id"]}]
    server = nova.boot(image, "lab-small", networks=networks, availability_zone="lab-b")
    sid = server["id"]
    name = f"nefos-{sid.replace('-', '')}"
    lab_portal.names.add(name)  # removed through the driver after the test, also on failure
    assert nova.show(sid)["status"] == "BUILD"
    assert lab_portal.run_jobs() == ["success"]
    shown = admin_nova.show(sid)
    assert (shown["status"], shown["OS-EXT-STS:power_state"], shown["OS-EXT-AZ:availability_zone"]) == (
        "ACTIVE", 1, "lab-b",
    )  # fmt: skip
    assert (shown["OS-EXT-SRV-ATTR:instance_name"], shown["OS-EXT-SRV-ATTR:hypervisor_hostname"]) == (name, b1)
    addresses = sorted(a["addr"] for a in shown["addresses"]["lab-net"])
    assert len(addresses) == 2 and port_ip in addresses
    row = _gnt_list(lab_portal, b1)[name]
    assert (row["status"], row["pnode"], row["disk_template"]) == ("running", b1, "file")
    assert (row["be/vcpus"], row["be/maxmem"], row["disk.sizes"], row["disk.names"]) == ("1", "128", "1024", "['root']")
    assert row["nic.macs"].split(",")[0] == port["mac_address"]
    assert sorted(row["nic.ips"].split(",")) == addresses
    bound = _ok(_call(nova, "get", f"/network/v2.0/ports/{port['id']}"), 200)["port"]
    assert (bound["device_id"], bound["status"]) == (sid, "ACTIVE")
    assert _limits(nova) == (1, 1, 128)

    # Stop, start, soft and hard reboot: each a Ganeti job, each landing in the server's status.
    _ok(nova.action(sid, "os-stop"), 202)
    assert nova.show(sid)["status"] == "ACTIVE"  # task powering-off until the job ends
    assert lab_portal.run_jobs() == ["success"]
    assert (nova.show(sid)["status"], nova.show(sid)["OS-EXT-STS:power_state"]) == ("SHUTOFF", 4)
    assert _on_cluster(lab_portal, "b", name).admin_up is False
    _ok(nova.action(sid, "os-start"), 202)
    assert lab_portal.run_jobs() == ["success"]
    assert nova.show(sid)["status"] == "ACTIVE" and _on_cluster(lab_portal, "b", name).admin_up is True
    for kind, status in (("SOFT", "REBOOT"), ("HARD", "HARD_REBOOT")):
        _ok(nova.action(sid, "reboot", {"type": kind}), 202)
        assert nova.show(sid)["status"] == status
        assert lab_portal.run_jobs() == ["success"]
        assert nova.show(sid)["status"] == "ACTIVE"

    # Resize: vCPUs/RAM through Ganeti's modify, then the root disk grows; VERIFY_RESIZE; confirm.
    _ok(nova.action(sid, "resize", {"flavorRef": "lab-grown"}), 202)
    assert nova.show(sid)["status"] == "RESIZE"
    assert lab_portal.run_jobs() == ["success", "success"]
    assert nova.show(sid)["status"] == "VERIFY_RESIZE"
    row = _gnt_list(lab_portal, b1)[name]
    assert (row["be/maxmem"], row["disk.sizes"]) == ("256", "2048")
    _ok(nova.action(sid, "confirmResize"), 204)
    shown = nova.show(sid)
    assert (shown["status"], shown["flavor"]["original_name"], shown["flavor"]["ram"]) == ("ACTIVE", "lab-grown", 256)
    assert _limits(nova) == (1, 1, 256)

    # Cinder + Nova: a volume attached becomes a disk of the instance named after the volume.
    volume = _ok(_call(nova, "post", volumes, {"volume": {"size": 1, "name": "data"}}), 202)["volume"]
    vid = volume["id"]
    assert volume["status"] == "available"
    attach = {"volumeAttachment": {"volumeId": vid}}
    attached = _ok(nova.post(f"/servers/{sid}/os-volume_attachments", attach), 200)["volumeAttachment"]
    assert attached["device"] == "/dev/vdb"
    assert _ok(_call(nova, "get", f"{volumes}/{vid}"), 200)["volume"]["status"] == "attaching"
    assert lab_portal.run_jobs() == ["success"]
    shown = _ok(_call(nova, "get", f"{volumes}/{vid}"), 200)["volume"]
    assert shown["status"] == "in-use" and [a["server_id"] for a in shown["attachments"]] == [sid]
    assert [v["id"] for v in nova.show(sid)["os-extended-volumes:volumes_attached"]] == [vid]
    row = _gnt_list(lab_portal, b1)[name]
    assert (row["disk.names"], row["disk.sizes"]) == (str(["root", vid]), "2048,1024")

    # Detach: the volume is available again; Ganeti keeps the disk, attached to no instance.
    _ok(nova.delete(f"/servers/{sid}/os-volume_attachments/{vid}"), 202)
    assert lab_portal.run_jobs() == ["success"]
    shown = _ok(_call(nova, "get", f"{volumes}/{vid}"), 200)["volume"]
    assert (shown["status"], shown["attachments"]) == ("available", [])
    assert _gnt_list(lab_portal, b1)[name]["disk.names"] == "['root']"
    assert vid in _ganeti_disks(lab_portal, b1)

    # Deleting the detached volume goes through the (stopped: no hotplug on fake) server's instance.
    _ok(nova.action(sid, "os-stop"), 202)
    assert lab_portal.run_jobs() == ["success"]
    _ok(_call(nova, "delete", f"{volumes}/{vid}"), 202)
    assert lab_portal.run_jobs() == ["success"]
    _ok(_call(nova, "get", f"{volumes}/{vid}"), 404)
    assert vid not in _ganeti_disks(lab_portal, b1)

    # Delete the server: gone from Ganeti, the quota and the ports given back.
    _ok(nova.delete(f"/servers/{sid}"), 204)
    assert lab_portal.run_jobs() == ["success"]
    _ok(nova.get(f"/servers/{sid}"), 404)
    assert name not in _gnt_list(lab_portal, b1) and _on_cluster(lab_portal, "b", name) is None
    instance = Instance.objects.get(name=name)
    assert instance.status == Instance.Status.DELETED
    # Every step was one Ganeti job (a real job id), each followed to success.
    done = list(Job.objects.filter(instance=instance).order_by("pk").values_list("operation", "status", "job_id"))
    assert [op for op, _, _ in done] == [
        "create", "stop", "start", "reboot", "reboot", "resize", "grow_disk", "add_disk", "detach_disk", "stop",
        "delete_detached_disk", "destroy",
    ]  # fmt: skip
    assert all(status == "success" and job_id.isdigit() for _, status, job_id in done), done
    assert _limits(nova) == (0, 0, 0)
    kept = _ok(_call(nova, "get", f"/network/v2.0/ports/{port['id']}"), 200)["port"]
    assert (kept["device_id"], kept["status"]) == ("", "DOWN")  # the user's port stays, unbound
    ports = _ok(_call(nova, "get", f"/network/v2.0/ports?network_id={net['id']}"), 200)["ports"]
    assert [p["id"] for p in ports] == [port["id"]]  # the port made for the server went with it


def test_allocator_places_servers_and_revert_resize_restores_size_when_no_zone_named(
    lab_portal, nova, admin_nova, image
):
    _flavor(admin_nova, "lab-small", ram=128, disk=1)
    _flavor(admin_nova, "lab-more", ram=256, disk=1)
    net = _ok(_call(nova, "post", "/network/v2.0/networks", {"network": {"name": "lab-net"}}), 201)["network"]
    subnet_body = {"subnet": {"network_id": net["id"], "cidr": "10.21.0.0/24", "ip_version": 4}}
    _ok(_call(nova, "post", "/network/v2.0/subnets", subnet_body), 201)

    # No zone: backend_ganeti's allocator chooses among the lab clusters (reserving capacity).
    sids = [nova.boot(image, "lab-small", net["id"])["id"] for _ in range(3)]
    for sid in sids:
        lab_portal.names.add(f"nefos-{sid.replace('-', '')}")
    assert lab_portal.run_jobs() == ["success"] * 3
    shown = {sid: admin_nova.show(sid) for sid in sids}
    for server in shown.values():
        assert server["status"] == "ACTIVE", server.get("fault")
        zone, node = server["OS-EXT-AZ:availability_zone"], server["OS-EXT-SRV-ATTR:hypervisor_hostname"]
        assert zone in ("lab-a", "lab-b") and node in lab_portal.nodes(zone.removeprefix("lab-"))
        assert _on_cluster(lab_portal, zone.removeprefix("lab-"), server["OS-EXT-SRV-ATTR:instance_name"])
    assert {s["OS-EXT-AZ:availability_zone"] for s in shown.values()} == {"lab-a", "lab-b"}

    # Resize then revert: Ganeti's memory goes to 256 MiB and back to 128; the quota follows.
    sid = sids[0]
    key = shown[sid]["OS-EXT-AZ:availability_zone"].removeprefix("lab-")
    name = shown[sid]["OS-EXT-SRV-ATTR:instance_name"]
    _ok(nova.action(sid, "resize", {"flavorRef": "lab-more"}), 202)
    assert lab_portal.run_jobs() == ["success"]
    assert nova.show(sid)["status"] == "VERIFY_RESIZE"
    assert _on_cluster(lab_portal, key, name).memory_mb == 256
    assert _limits(nova) == (3, 3, 3 * 128 + 128)
    _ok(nova.action(sid, "revertResize"), 202)
    assert lab_portal.run_jobs() == ["success"]
    server = nova.show(sid)
    assert (server["status"], server["flavor"]["original_name"]) == ("ACTIVE", "lab-small")
    assert _on_cluster(lab_portal, key, name).memory_mb == 128
    assert _limits(nova) == (3, 3, 3 * 128)

    for sid in sids:
        _ok(nova.delete(f"/servers/{sid}"), 204)
    assert lab_portal.run_jobs() == ["success"] * 3
    assert _limits(nova) == (0, 0, 0)
    for server in shown.values():
        zone_key = server["OS-EXT-AZ:availability_zone"].removeprefix("lab-")
        assert _on_cluster(lab_portal, zone_key, server["OS-EXT-SRV-ATTR:instance_name"]) is None
