"""GanetiDriver against the real Ganeti 3.0 clusters of the lab (scripts/lab/ganeti_lab.py).

Skipped unless NEFOS_LAB_RAPI names the running lab's endpoints. Instances use the ``fake``
hypervisor (the lab's default) and the no-op OS; every instance a test creates is removed by the
``created`` fixture, also when the test fails.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from backend_ganeti.drivers.ganeti import GanetiDriver
from backend_ganeti.drivers.ganeti_mapping import child_job_ids
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobState, JobStatus, NicSpec, PowerState
from backend_ganeti.models import Cluster
from backend_ganeti.rapi import NotFound
from tests.backend_ganeti.conftest import client_for

pytestmark = pytest.mark.ganeti

JOB_TIMEOUT = 180.0


def _driver(endpoint: dict) -> GanetiDriver:
    """A driver built the way services build it: from an (unsaved) Cluster row."""
    cluster = Cluster(
        name=endpoint["cluster_name"],
        kind=Cluster.Kind.GANETI,
        endpoint=endpoint["url"],
        username=endpoint["username"],
        password=endpoint["password"],
        ca_file=endpoint["ca_file"],
    )
    return GanetiDriver.for_cluster(cluster)


@pytest.fixture(scope="module")
def drv_a(lab) -> Iterator[GanetiDriver]:
    """Driver of cluster A (two nodes)."""
    driver = _driver(lab["a"])
    yield driver
    driver.close()


@pytest.fixture(scope="module")
def drv_b(lab) -> Iterator[GanetiDriver]:
    """Driver of cluster B (one node); skips when the lab has none."""
    if "b" not in lab:
        pytest.skip("the lab has no cluster B")
    driver = _driver(lab["b"])
    yield driver
    driver.close()


@pytest.fixture
def nodes_a(lab) -> list[str]:
    """Cluster A's nodes, master first; skips unless there are two."""
    nodes = sorted(lab["a"]["nodes"], key=lambda n: n != lab["a"]["master"])
    if len(nodes) < 2:
        pytest.skip("cluster A has one node")
    return nodes


@pytest.fixture
def created() -> Iterator[list[tuple[GanetiDriver, str]]]:
    """Instances to remove after the test, whatever its outcome."""
    instances: list[tuple[GanetiDriver, str]] = []
    yield instances
    for driver, name in instances:
        try:
            driver.instance(name)
        except NotFound:
            continue
        run(driver, driver.destroy(name))


def _name(prefix: str) -> str:
    """A fresh instance name (name_check is off, so it need not resolve)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}.nefos.lab"


def run(driver: GanetiDriver, job_id: str, timeout: float = JOB_TIMEOUT) -> JobStatus:
    """Follow a job with `wait_job` until it finishes; checks the log only ever grows."""
    deadline = time.monotonic() + timeout
    status = driver.job(job_id)
    while not status.finished:
        assert time.monotonic() < deadline, f"job {job_id} not finished after {timeout:.0f} s: {status.state}"
        newer = driver.wait_job(job_id, previous=status, timeout=30)
        assert newer.last_serial >= status.last_serial
        status = newer
    return status


def ok(driver: GanetiDriver, job_id: str) -> JobStatus:
    """Run a job and require success (the assertion shows Ganeti's reason otherwise)."""
    status = run(driver, job_id)
    assert status.state == JobState.SUCCESS, f"job {job_id} {status.operations}: {status.error}"
    return status


def create(driver: GanetiDriver, created: list, spec: CreateSpec) -> JobStatus:
    """Create an instance, registering it for removal first."""
    created.append((driver, spec.name))
    return run(driver, driver.create(spec))


def _spec(name: str, *, node: str | None = None, template: str = "diskless", **extra) -> CreateSpec:
    """A small fake-hypervisor instance: ipolicy wants >= 1 NIC and disks >= 1 GiB."""
    disks = (DiskSpec(size_mb=1024, name="root"),) if template == "file" else ()
    return CreateSpec(
        name=name, vcpus=1, memory_mb=128, disk_template=template, disks=disks, primary_node=node, **extra
    )


def test_queries_describe_cluster_when_lab_running(lab, drv_a):
    summary = drv_a.summary()
    assert (summary.name, summary.master) == (lab["a"]["cluster_name"], lab["a"]["master"])
    assert summary.software_version.startswith("3.0") and summary.hypervisor == "fake"
    assert {"diskless", "file"} <= set(summary.disk_templates)
    assert [g.name for g in drv_a.groups()] == ["default"]
    nodes = drv_a.nodes()
    assert sorted(n.name for n in nodes) == sorted(lab["a"]["nodes"])
    for node in nodes:
        assert node.group == "default" and node.role in ("M", "C", "R")
        assert node.mtotal and node.mfree is not None and node.dtotal and node.ctotal and node.address
    assert [n.role for n in nodes if n.name == lab["a"]["master"]] == ["M"]
    assert drv_a.networks() == []


def test_lifecycle_runs_through_driver_when_fake_hypervisor(lab, drv_a, created):
    master = lab["a"]["master"]
    name = _name("drv-life")
    started = time.monotonic()
    job = create(drv_a, created, _spec(name, node=master, nics=(NicSpec(name="eth0"),), tags=("nefos:test",)))
    assert job.state == JobState.SUCCESS, job.error
    assert time.monotonic() - started < 60
    assert job.operations == (f"INSTANCE_CREATE({name})",) and job.result == [[master]]
    assert job.log and job.started_at and job.ended_at and job.ended_at >= job.started_at

    info = drv_a.instance(name)
    assert (info.primary_node, info.power, info.admin_up) == (master, PowerState.RUNNING, True)
    assert (info.vcpus, info.memory_mb, info.disk_template, info.os) == (1, 128, "diskless", "noop")
    assert [(n.name, n.link) for n in info.nics] == [("eth0", "gnt0")] and info.nics[0].mac
    assert info.tags == ("nefos:test",) and info.mtime
    assert name in [i.name for i in drv_a.instances()]
    assert drv_a.console(name).kind == "msg"

    ok(drv_a, drv_a.stop(name, timeout=10))
    assert (drv_a.instance(name).power, drv_a.instance(name).admin_up) == (PowerState.STOPPED, False)
    ok(drv_a, drv_a.start(name))
    assert drv_a.instance(name).power == PowerState.RUNNING
    ok(drv_a, drv_a.reboot(name))
    ok(drv_a, drv_a.reboot(name, hard=True))
    ok(drv_a, drv_a.resize(name, vcpus=2, memory_mb=256))
    assert (drv_a.instance(name).vcpus, drv_a.instance(name).memory_mb) == (2, 256)

    ok(drv_a, drv_a.destroy(name))
    with pytest.raises(NotFound):
        drv_a.instance(name)


def test_create_places_instance_when_no_node_named(lab, drv_a, drv_b, nodes_a, created):
    on_a, on_b = _name("drv-hail"), _name("drv-lone")
    assert create(drv_a, created, _spec(on_a)).state == JobState.SUCCESS
    assert drv_a.instance(on_a).primary_node in nodes_a
    # hail refuses a one-node cluster (FailN1): the driver names B's only node instead.
    assert create(drv_b, created, _spec(on_b)).state == JobState.SUCCESS
    assert drv_b.instance(on_b).primary_node == lab["b"]["master"]


def test_migrate_moves_instance_between_nodes_when_diskless(drv_a, nodes_a, created):
    name = _name("drv-mig")
    assert create(drv_a, created, _spec(name, node=nodes_a[0])).state == JobState.SUCCESS
    ok(drv_a, drv_a.migrate(name, target_node=nodes_a[1]))
    info = drv_a.instance(name)
    assert (info.primary_node, info.power) == (nodes_a[1], PowerState.RUNNING)
    ok(drv_a, drv_a.migrate(name, target_node=nodes_a[0], live=False))
    assert drv_a.instance(name).primary_node == nodes_a[0]


def test_failover_moves_instance_when_template_externally_mirrored(drv_a, nodes_a, created):
    name = _name("drv-fo")
    assert create(drv_a, created, _spec(name, node=nodes_a[0])).state == JobState.SUCCESS
    ok(drv_a, drv_a.failover(name, target_node=nodes_a[1]))
    info = drv_a.instance(name)
    assert (info.primary_node, info.power) == (nodes_a[1], PowerState.RUNNING)


def test_failover_refused_with_ganeti_reason_when_file_template(drv_a, nodes_a, created):
    name = _name("drv-fofile")
    assert create(drv_a, created, _spec(name, node=nodes_a[0], template="file")).state == JobState.SUCCESS
    status = run(drv_a, drv_a.failover(name, target_node=nodes_a[1]))
    assert status.state == JobState.ERROR
    assert status.error == "OpPrereqError: Instance's disk layout 'file' does not allow failovers"
    assert drv_a.instance(name).primary_node == nodes_a[0]
    refused = run(drv_a, drv_a.migrate(name, target_node=nodes_a[1]))
    assert "does not allow migrations" in refused.error


def test_disks_and_nics_change_when_file_instance(lab, drv_b, created):
    name = _name("drv-disk")
    assert create(drv_b, created, _spec(name, node=lab["b"]["master"], template="file")).state == JobState.SUCCESS
    ok(drv_b, drv_b.add_disk(name, DiskSpec(size_mb=1024, name="data")))
    assert [(d.size_mb, d.name) for d in drv_b.instance(name).disks] == [(1024, "root"), (1024, "data")]
    # The fake hypervisor cannot hot-unplug: Ganeti refuses while the instance runs.
    refused = run(drv_b, drv_b.remove_disk(name, 1))
    assert refused.state == JobState.ERROR and "without using hotplug" in refused.error

    ok(drv_b, drv_b.stop(name, timeout=10))
    ok(drv_b, drv_b.remove_disk(name, 1))
    ok(drv_b, drv_b.grow_disk(name, 0, 512))
    assert [d.size_mb for d in drv_b.instance(name).disks] == [1536]
    ok(drv_b, drv_b.add_nic(name, NicSpec(mac="aa:00:00:5e:00:01", link="gnt0", name="eth1")))
    nics = drv_b.instance(name).nics
    assert [(n.mac, n.name) for n in nics][1:] == [("aa:00:00:5e:00:01", "eth1")]
    ok(drv_b, drv_b.remove_nic(name, 1))
    assert len(drv_b.instance(name).nics) == 1


def test_evacuate_node_moves_primary_instances_when_asked(drv_a, nodes_a, created):
    name = _name("drv-evac")
    assert create(drv_a, created, _spec(name, node=nodes_a[1])).state == JobState.SUCCESS
    status = ok(drv_a, drv_a.evacuate_node(nodes_a[1], mode="primary-only"))
    # Ganeti's evacuate job only submits one job per instance: {"jobs": [[true, id], ...]}.
    children = child_job_ids(status)
    assert len(children) == 1
    ok(drv_a, children[0])
    assert drv_a.instance(name).primary_node == nodes_a[0]


def test_set_node_drained_changes_role_when_toggled(drv_a, nodes_a):
    node = nodes_a[1]
    try:
        ok(drv_a, drv_a.set_node_drained(node, True))
        (info,) = [n for n in drv_a.nodes() if n.name == node]
        assert (info.role, info.drained) == ("D", True)
    finally:
        ok(drv_a, drv_a.set_node_drained(node, False))
    (info,) = [n for n in drv_a.nodes() if n.name == node]
    assert not info.drained and info.role in ("C", "R")


def test_set_node_drained_refused_when_node_is_master(lab, drv_a):
    status = run(drv_a, drv_a.set_node_drained(lab["a"]["master"], True))
    assert status.state == JobState.ERROR
    assert "master role can be changed only via master-failover" in status.error


def test_job_queries_answer_when_job_finished(drv_a):
    # Starting an unknown instance is accepted by RAPI and fails inside the job.
    job_id = drv_a.start(_name("drv-ghost"))
    status = run(drv_a, job_id)
    assert status.state == JobState.ERROR and "drv-ghost" in status.error
    assert drv_a.wait_job(job_id, previous=status, timeout=5) == status
    assert drv_a.cancel_job(job_id) is False
    with pytest.raises(NotFound):
        drv_a.instance(_name("drv-ghost"))


def test_kvm_instance_runs_when_qemu_available(lab, drv_a, created):
    kvm = GanetiDriver(client_for(lab["a"]), hypervisor="kvm")
    name = _name("drv-kvm")
    spec = _spec(name, node=lab["a"]["master"], hv_params={"kernel_path": ""})
    try:
        started = time.monotonic()
        created.append((drv_a, name))
        status = run(kvm, kvm.create(spec))
        if status.state == JobState.ERROR and "kvm_path" in status.error:
            pytest.skip(f"qemu is not installed in the lab nodes: {status.error}")
        assert status.state == JobState.SUCCESS, status.error
        assert time.monotonic() - started < 60
        info = kvm.instance(name)
        assert (info.power, info.admin_up) == (PowerState.RUNNING, True)
        assert kvm.console(name).kind in ("ssh", "vnc", "msg")
        ok(kvm, kvm.stop(name, timeout=5))
        assert kvm.instance(name).power == PowerState.STOPPED
    finally:
        kvm.close()
