"""Attaching, detaching and deleting detached disks (the volumes' backend): operations, the
Ganeti driver's RAPI requests, the job watcher's idempotency checks, and the embedded host, whose
agent keeps a detached disk's file and gives it back on attach."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from backend_ganeti import tasks
from backend_ganeti.drivers.ganeti import GanetiDriver
from backend_ganeti.drivers.types import DiskInfo, DiskSpec, JobState
from backend_ganeti.libvirt_host.errors import JobError
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.records import DiskRecord, DomainRecord
from backend_ganeti.libvirt_host.store import StateStore
from backend_ganeti.models import Instance, Job
from backend_ganeti.rapi.client import RapiClient
from backend_ganeti.rapi.errors import BadRequest
from backend_ganeti.services import devices, jobs
from backend_ganeti.services.dispatch import ALREADY_DONE, Operation
from portal.errors import InvalidState, NotFound, ValidationFailed
from tests.backend_ganeti.backend_factories import make_cluster, seed_instance
from tests.backend_ganeti.fake_driver import install
from tests.backend_ganeti.fake_rapi import FakeRapi
from tests.backend_ganeti.libvirt_agent import finish, running_agent, spec

DISK = "0b7c6a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21"


@pytest.fixture
def cloud(monkeypatch):
    return install(monkeypatch)


@pytest.fixture
def inline(monkeypatch):
    monkeypatch.setattr(tasks.run_job, "delay", jobs.run_job)


def _vm(cloud, **fields) -> Instance:
    cluster = make_cluster("a")
    return seed_instance(cloud, cluster, "vm1", disks=(DiskInfo(1024, "file", "root"),), **fields)


def test_detach_and_attach_move_disk_between_instance_and_cluster_when_jobs_run(
    cloud, inline, member, django_capture_on_commit_callbacks
):
    vm = _vm(cloud)
    with django_capture_on_commit_callbacks(execute=True):
        devices.add_disk(vm, DiskSpec(size_mb=2048, name=DISK), actor=member)
    assert [d["name"] for d in Instance.objects.get(pk=vm.pk).disks] == ["root", DISK]
    with django_capture_on_commit_callbacks(execute=True):
        job = devices.detach_disk(vm, DISK, actor=member)
    assert Job.objects.get(pk=job.pk).status == "success"
    assert [d["name"] for d in Instance.objects.get(pk=vm.pk).disks] == ["root"]
    assert cloud.cluster("a").detached[DISK].size_mb == 2048
    with django_capture_on_commit_callbacks(execute=True):
        devices.attach_disk(vm, DISK, actor=member)
    assert [d["name"] for d in Instance.objects.get(pk=vm.pk).disks] == ["root", DISK]


def test_detach_is_404_when_instance_has_no_such_disk(cloud, member):
    with pytest.raises(NotFound, match="has no disk named"):
        devices.detach_disk(_vm(cloud), DISK, actor=member)


def test_attach_and_delete_are_409_when_disk_is_attached_already(cloud, member):
    vm = _vm(cloud)
    with pytest.raises(InvalidState, match="already"):
        devices.attach_disk(vm, "root", actor=member)
    with pytest.raises(InvalidState, match="detach or remove it instead"):
        devices.delete_detached_disk(vm, "root", actor=member)


def test_disk_operations_are_400_when_disk_name_is_empty(cloud, member):
    with pytest.raises(ValidationFailed):
        devices.attach_disk(_vm(cloud), "", actor=member)


def test_disk_operations_are_409_when_instance_is_building(cloud, member):
    vm = _vm(cloud)
    Instance.objects.filter(pk=vm.pk).update(status=Instance.Status.BUILDING)
    with pytest.raises(InvalidState, match="detach a disk from"):
        devices.detach_disk(vm, "root", actor=member)


def test_already_done_tells_attach_and_detach_by_disk_name_when_resumed():
    from backend_ganeti.drivers.types import InstanceInfo, PowerState

    info = InstanceInfo("vm1", "n1", (), PowerState.RUNNING, True, 1, 128, "file", disks=(DiskInfo(1, "file", DISK),))
    assert ALREADY_DONE[Operation.ATTACH_DISK](info, {"disk_name": DISK})
    assert not ALREADY_DONE[Operation.DETACH_DISK](info, {"disk_name": DISK})
    assert ALREADY_DONE[Operation.DETACH_DISK](info, {"disk_name": "other"})


@pytest.fixture
def rapi():
    server = FakeRapi().start()
    yield server
    server.stop()


def test_ganeti_driver_sends_attach_detach_and_attach_remove_detach_when_asked(rapi):
    driver = GanetiDriver(RapiClient(rapi.url, username="nefos", password="pw", retries=1))
    for job_id in (11, 12, 13, 14, 15):
        rapi.add("PUT", "/2/instances/vm1/modify", job_id)
    assert driver.attach_disk("vm1", DISK) == "11"
    assert driver.detach_disk("vm1", DISK) == "12"
    assert driver.delete_detached_disk("vm1", DISK) == "14"  # the removal's job, not the clean-up's
    bodies = [r["body"]["disks"] for r in rapi.requests]
    assert bodies == [
        [["attach", -1, {"name": DISK}]],
        [["detach", DISK, {}]],
        [["attach", -1, {"name": DISK}]],
        [["remove", DISK, {}]],
        [["detach", DISK, {}]],
    ]
    assert all(r["body"]["hotplug_if_possible"] is True for r in rapi.requests)
    driver.close()


def _host(tmp_path: Path) -> Host:
    """A Host over one non-simulated node (no libvirt call is made by the detached-disk methods)."""
    node = SimpleNamespace(name="n1", simulated=False)
    return Host([node], StateStore(tmp_path / "state"), disk_dir=tmp_path / "disks", vnc_ports=range(0))


def _record(name: str, disks: list[DiskRecord]) -> DomainRecord:
    return DomainRecord(name=name, uuid=name, node="n1", vcpus=1, memory_mb=128, disk_template="file",
                        disks=disks, next_disk_id=len(disks))  # fmt: skip


def test_host_keeps_detached_disk_file_and_gives_it_back_when_reattached(tmp_path):
    host = _host(tmp_path)
    first = _record("vm1", [DiskRecord(1024, 0, "root"), DiskRecord(2048, 1, DISK)])
    data = Path(host.disk_path("vm1", first.disks[1]))
    data.parent.mkdir(parents=True)
    data.write_bytes(b"precious")
    host.take_disk(first, DISK)
    assert [d.name for d in first.disks] == ["root"] and not data.exists()
    assert host.detached_path(DISK).read_bytes() == b"precious"
    assert StateStore(tmp_path / "state").load_detached() == {DISK: {"size_mb": 2048}}
    second = _record("vm2", [DiskRecord(1024, 0, "root")])
    disk = host.give_disk(second, DISK)
    assert (disk.size_mb, disk.disk_id) == (2048, 1)
    assert Path(host.disk_path("vm2", disk)).read_bytes() == b"precious"
    assert host.detached == {} and not host.detached_path(DISK).exists()


def test_host_deletes_detached_disk_file_when_asked(tmp_path):
    host = _host(tmp_path)
    record = _record("vm1", [DiskRecord(1024, 0, DISK)])
    path = Path(host.disk_path("vm1", record.disks[0]))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    host.take_disk(record, DISK)
    host.delete_detached(DISK)
    assert not host.detached_path(DISK).exists() and host.detached == {}
    with pytest.raises(JobError, match="no detached disk"):
        host.give_disk(record, DISK)


def test_agent_detaches_keeps_and_reattaches_disk_when_driven_through_driver():
    with running_agent(build_delay=0.05, op_delay=0.02) as agent:
        driver = agent.driver()
        for name in ("vm-a", "vm-b"):
            assert finish(driver, driver.create(spec(name))).state == JobState.SUCCESS
        assert finish(driver, driver.add_disk("vm-a", DiskSpec(size_mb=512, name=DISK))).state == JobState.SUCCESS
        assert finish(driver, driver.detach_disk("vm-a", DISK)).state == JobState.SUCCESS
        assert DISK not in [d.name for d in driver.instance("vm-a").disks]
        assert finish(driver, driver.attach_disk("vm-b", DISK)).state == JobState.SUCCESS
        assert [(d.name, d.size_mb) for d in driver.instance("vm-b").disks][-1] == (DISK, 512)
        assert finish(driver, driver.detach_disk("vm-b", DISK)).state == JobState.SUCCESS
        assert finish(driver, driver.delete_detached_disk("vm-b", DISK)).state == JobState.SUCCESS
        failed = finish(driver, driver.attach_disk("vm-b", DISK))
        assert failed.state == JobState.ERROR and "no detached disk" in failed.error
        with pytest.raises(BadRequest):
            driver.detach_disk("vm-b", "../etc/passwd")
        driver.close()
