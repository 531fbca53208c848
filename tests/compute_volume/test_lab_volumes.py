"""Volumes on a real Ganeti cluster (the lab's cluster B, Ganeti 3.0.2, file disk template).

Through the portal's services end to end: a volume is attached to a server's instance (a new
disk named after the volume), data written into its disk file on the node, detached (Ganeti
keeps the disk and the data, attached to nothing), attached again (same data), and deleted
(attach + remove through the instance: refused while the fake-hypervisor instance runs, then done
once it is stopped). Jobs run with the Celery task's body; skipped unless NEFOS_LAB_RAPI names a
running lab (`NEFOS_LAB_RAPI=... pytest -m ganeti tests/compute_volume`).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from backend_ganeti.drivers.types import CreateSpec, DiskSpec
from backend_ganeti.models import Instance
from backend_ganeti.services import operations
from compute.models import Server
from compute.volume.models import Volume
from compute.volume.services import attachments, volumes
from compute.volume.services.types import default_type, seed_volume_types
from identity.quota_registry import sync_resources
from portal.errors import ValidationFailed
from tests.backend_ganeti.conftest import lab  # noqa: F401 - the lab's endpoints fixture

pytestmark = [pytest.mark.ganeti, pytest.mark.django_db(transaction=True)]
pytest_plugins = ["tests.backend_ganeti.lab_services"]

MARKER = "nefos-volume-marker-0123456789"
CONFIG = "/var/lib/ganeti/config.data"


def _disks(lab_portal, node: str) -> dict[str, dict]:
    """Ganeti's disks by name, from the master's configuration (attached or not)."""
    script = f"import json;c=json.load(open('{CONFIG}'));print(json.dumps(list(c['disks'].values())))"
    found = json.loads(lab_portal.node_exec(node, "python3", "-c", script))
    return {d["name"]: d for d in found if d.get("name")}


def _path(lab_portal, node: str, name: str) -> str:
    return _disks(lab_portal, node)[name]["logical_id"][1]


def _read(lab_portal, node: str, path: str) -> str:
    script = f"print(open('{path}','rb').read({len(MARKER)}).decode('ascii','replace'))"
    return lab_portal.node_exec(node, "python3", "-c", script).strip()


def _instance_disk_names(lab_portal, name: str) -> list[str]:
    driver = lab_portal.driver("b")
    try:
        return [d.name for d in driver.instance(name).disks]
    finally:
        driver.close()


def _wait_detached(lab_portal, node: str, disk: str, instance: str, timeout: float = 90) -> None:
    """Wait for the clean-up job queued after a refused removal: the disk detached again."""
    deadline = time.monotonic() + timeout
    while disk in _instance_disk_names(lab_portal, instance) and time.monotonic() < deadline:
        time.sleep(2)
    assert disk not in _instance_disk_names(lab_portal, instance)
    assert disk in _disks(lab_portal, node)


def test_volume_keeps_data_across_detach_and_reattach_when_on_real_ganeti(lab_portal, project, member):
    sync_resources()
    seed_volume_types()
    (b1,) = lab_portal.nodes("b")
    name = lab_portal.name("vol")
    server_id = uuid.uuid4()
    spec = CreateSpec(
        name=name,
        vcpus=1,
        memory_mb=128,
        disk_template="file",
        disks=(DiskSpec(size_mb=1024, name="root"),),
        primary_node=b1,
    )
    row = operations.create_instance(
        project=project, owner_ref=str(server_id), spec=spec, cluster=lab_portal.clusters["b"], actor=member
    )
    assert lab_portal.run_jobs() == ["success"]
    server = Server.objects.create(
        id=server_id, project=project, user_id=str(member.pk), name="vm", vm_state="active", power_state="running",
        flavor_id="x", flavor_name="x", vcpus=1, ram=128, disk=1, instance=row,
    )  # fmt: skip
    volume = volumes.create_volume(project, volumes.VolumeSpec(size=1, volume_type=default_type()), actor=member)
    disk = str(volume.pk)

    # First attach: a new 1 GiB disk named after the volume.
    attachments.attach_volume(server, volume, actor=member)
    lab_portal.run_jobs()
    volume.refresh_from_db()
    assert (volume.status, volume.cluster_id) == ("in-use", lab_portal.clusters["b"].pk), volume.fault
    assert _instance_disk_names(lab_portal, name)[-1] == disk
    assert [d["name"] for d in Instance.objects.get(pk=row.pk).disks][-1] == disk
    path = _path(lab_portal, b1, disk)
    lab_portal.node_exec(b1, "python3", "-c", f"f=open('{path}','r+b');f.write(b'{MARKER}');f.close()")

    # Detach: Ganeti keeps the disk (moved out of the instance's directory) with its data.
    attachments.detach_volume(server, volume, actor=member)
    lab_portal.run_jobs()
    volume.refresh_from_db()
    assert (volume.status, volume.server_id) == ("available", None), volume.fault
    assert disk not in _instance_disk_names(lab_portal, name)
    assert disk in _disks(lab_portal, b1)
    assert _read(lab_portal, b1, _path(lab_portal, b1, disk)) == MARKER

    # Attach again: the same disk, the same data.
    attachments.attach_volume(server, volume, actor=member)
    lab_portal.run_jobs()
    volume.refresh_from_db()
    assert volume.status == "in-use", volume.fault
    assert _instance_disk_names(lab_portal, name)[-1] == disk
    assert _read(lab_portal, b1, _path(lab_portal, b1, disk)) == MARKER

    # Delete while the (fake-hypervisor) instance runs: Ganeti refuses the removal without
    # hotplug; the volume is error_deleting and its disk detached again, data kept.
    attachments.detach_volume(server, volume, actor=member)
    lab_portal.run_jobs()
    volumes.delete_volume(Volume.objects.get(pk=volume.pk), actor=member)
    lab_portal.run_jobs()
    volume.refresh_from_db()
    assert volume.status == "error_deleting" and "hotplug" in volume.fault, volume.fault
    _wait_detached(lab_portal, b1, disk, name)

    # Stopped, the instance can carry the removal: the disk and its file are gone.
    operations.stop_instance(Instance.objects.get(pk=row.pk), timeout=10, actor=member)
    assert lab_portal.run_jobs() == ["success"]
    volumes.delete_volume(Volume.objects.get(pk=volume.pk), actor=member)
    assert lab_portal.run_jobs() == ["success"]
    assert not Volume.objects.filter(pk=volume.pk).exists()
    assert disk not in _disks(lab_portal, b1)
    assert disk not in _instance_disk_names(lab_portal, name)


def _server(lab_portal, project, member, key: str, node: str, purpose: str) -> Server:
    """A running file-template instance on `node` of cluster `key`, and the server row owning it."""
    name = lab_portal.name(purpose)
    server_id = uuid.uuid4()
    spec = CreateSpec(
        name=name, vcpus=1, memory_mb=128, disk_template="file", disks=(DiskSpec(size_mb=1024, name="root"),),
        primary_node=node,
    )  # fmt: skip
    row = operations.create_instance(
        project=project, owner_ref=str(server_id), spec=spec, cluster=lab_portal.clusters[key], actor=member
    )
    assert lab_portal.run_jobs() == ["success"]
    return Server.objects.create(
        id=server_id, project=project, user_id=str(member.pk), name=purpose, vm_state="active", power_state="running",
        flavor_id="x", flavor_name="x", vcpus=1, ram=128, disk=1, instance=row,
    )  # fmt: skip


def test_volume_moves_only_between_servers_of_its_node_when_on_two_node_cluster(lab_portal, project, member):
    sync_resources()
    seed_volume_types()
    a1, a2 = lab_portal.nodes("a")
    first = _server(lab_portal, project, member, "a", a1, "first")
    same_node = _server(lab_portal, project, member, "a", a1, "same")
    other_node = _server(lab_portal, project, member, "a", a2, "other")
    volume = volumes.create_volume(project, volumes.VolumeSpec(size=1, volume_type=default_type()), actor=member)
    attachments.attach_volume(first, volume, actor=member)
    lab_portal.run_jobs()
    attachments.detach_volume(first, volume, actor=member)
    lab_portal.run_jobs()
    volume.refresh_from_db()
    assert (volume.status, volume.node) == ("available", a1), volume.fault
    # Ganeti refuses a file disk on another node ("Disk nodes are [...] while the instance's nodes
    # are (...)"): the portal says so before asking.
    with pytest.raises(ValidationFailed, match="on the node that holds it"):
        attachments.attach_volume(other_node, volume, actor=member)
    attachments.attach_volume(same_node, volume, actor=member)
    lab_portal.run_jobs()
    volume.refresh_from_db()
    assert (volume.status, volume.server_id) == ("in-use", same_node.pk), volume.fault
    assert _instance_disk_names_on(lab_portal, "a", same_node.instance.name)[-1] == str(volume.pk)


def _instance_disk_names_on(lab_portal, key: str, name: str) -> list[str]:
    driver = lab_portal.driver(key)
    try:
        return [d.name for d in driver.instance(name).disks]
    finally:
        driver.close()
