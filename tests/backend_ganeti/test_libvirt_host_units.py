"""Unit tests of the libvirt host agent's parts without a subprocess: store, placement, domain
XML, the job queue, request validation, the driver's interface, and the embedded-cluster service."""

from __future__ import annotations

import inspect
import json
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from backend_ganeti.drivers.base import ClusterDriver
from backend_ganeti.drivers.libvirt import LibvirtHostDriver, socket_path_from_endpoint
from backend_ganeti.libvirt_host.api import _create_params
from backend_ganeti.libvirt_host.domxml import _disk_target, render_domain, vnc_from_xml
from backend_ganeti.libvirt_host.errors import BadRequestError, JobError
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.jobs import INTERRUPTED, JobContext, JobQueue
from backend_ganeti.libvirt_host.nodes import quiet_libvirt, simulated_nodes
from backend_ganeti.libvirt_host.placement import NodeCapacity, PlacementError, choose_node, usage_by_node
from backend_ganeti.libvirt_host.records import DiskRecord, DomainRecord, JobRecord, JobStatus, NicRecord
from backend_ganeti.libvirt_host.store import StateStore
from backend_ganeti.models import Cluster
from backend_ganeti.rapi.errors import ClusterUnreachable
from backend_ganeti.services.embedded import ensure_embedded_cluster
from portal.models import AuditEvent


def record(name: str, node: str, *, memory_mb: int = 1024, disk_mb: int = 2048, template: str = "file") -> DomainRecord:
    disks = [DiskRecord(size_mb=disk_mb, disk_id=0)] if template == "file" else []
    return DomainRecord(
        name=name,
        uuid="6695eb01-f6a4-8304-79aa-97f2502e193f",
        node=node,
        vcpus=2,
        memory_mb=memory_mb,
        disk_template=template,
        disks=disks,
        nics=[NicRecord(mac="52:54:00:00:00:01", network="default")],
        admin_up=True,
        building=False,
    )


NODES = [NodeCapacity("node1", memory_mb=4096, disk_mb=10000, cpus=4), NodeCapacity("node2", 4096, 10000, 4)]


# --- store ----------------------------------------------------------------------------------
def test_store_round_trips_domains_and_jobs_when_reopened(tmp_path):
    store = StateStore(tmp_path / "state")
    store.save_domain(record("vm1", "node1"), "<domain/>")
    first, second = store.next_job_id(), store.next_job_id()
    store.save_job(JobRecord(job_id=second, operation="OP_X", target="vm1", status=JobStatus.SUCCESS))
    reopened = StateStore(tmp_path / "state")
    assert reopened.load_domains() == [(record("vm1", "node1"), "<domain/>")]
    assert [job.job_id for job in reopened.load_jobs()] == [second]
    assert reopened.next_job_id() == second + 1 > first
    assert (tmp_path / "state" / "domains" / "vm1.json").stat().st_mode & 0o777 == 0o600
    assert not list((tmp_path / "state" / "domains").glob(".*.tmp"))
    reopened.delete_domain("vm1")
    assert reopened.load_domains() == []


def test_store_job_ids_continue_when_the_serial_file_lags_behind_job_files(tmp_path):
    store = StateStore(tmp_path)
    store.save_job(JobRecord(job_id=41, operation="OP_X", target="t"))
    assert StateStore(tmp_path).next_job_id() == 42


def test_store_rejects_names_when_they_could_escape_the_directory(tmp_path):
    with pytest.raises(ValueError, match="invalid instance name"):
        StateStore(tmp_path).save_domain(record("../evil", "node1"), "")


# --- placement ------------------------------------------------------------------------------
def test_usage_counts_memory_of_every_domain_and_disk_of_file_ones_when_accounting():
    usage = usage_by_node(NODES, [record("a", "node1"), record("b", "node1", template="diskless"), record("c", "gone")])
    assert (usage["node1"].memory_free_mb, usage["node1"].disk_free_mb, usage["node1"].instances) == (2048, 7952, 2)
    assert usage["node2"].memory_free_mb == 4096


def test_choose_node_prefers_most_free_memory_and_first_name_when_tied():
    assert choose_node(NODES, usage_by_node(NODES, []), memory_mb=512, disk_mb=0) == "node1"
    usage = usage_by_node(NODES, [record("a", "node1")])
    assert choose_node(NODES, usage, memory_mb=512, disk_mb=0) == "node2"
    assert choose_node(NODES, usage, memory_mb=512, disk_mb=0, exclude=["node2"]) == "node1"


def test_choose_node_raises_when_no_node_fits_or_named_node_is_unusable():
    usage = usage_by_node(NODES, [record("a", "node1", memory_mb=4000)])
    assert choose_node(NODES, usage, memory_mb=4096, disk_mb=0) == "node2"  # exactly full is allowed
    with pytest.raises(PlacementError, match="no node can take 4097 MiB"):
        choose_node(NODES, usage, memory_mb=4097, disk_mb=0)
    with pytest.raises(PlacementError, match="not enough memory on node node1"):
        choose_node(NODES, usage, memory_mb=512, disk_mb=0, node="node1")
    with pytest.raises(PlacementError, match="unknown node"):
        choose_node(NODES, usage, memory_mb=1, disk_mb=0, node="node7")
    drained = [NodeCapacity("node1", 4096, 10000, 4, drained=True), NodeCapacity("node2", 4096, 10000, 4, offline=True)]
    with pytest.raises(PlacementError, match="drained"):
        choose_node(drained, usage_by_node(drained, []), memory_mb=1, disk_mb=0, node="node1")
    with pytest.raises(PlacementError):
        choose_node(drained, usage_by_node(drained, []), memory_mb=1, disk_mb=0)


# --- domain XML -----------------------------------------------------------------------------
def test_domain_xml_has_disks_nics_and_vnc_when_rendered():
    rec = record("vm1", "node1")
    rec.nics.append(NicRecord(mac="52:54:00:00:00:02", link="br0"))
    xml = render_domain(rec, domain_type="test", disk_path=lambda d: f"/d/disk-{d.disk_id}.img")
    assert '<domain type="test">' in xml and '<memory unit="MiB">1024</memory>' in xml
    assert '<source file="/d/disk-0.img" />' in xml and '<target dev="vda" bus="virtio" />' in xml
    assert '<source network="default" />' in xml and '<source bridge="br0" />' in xml
    assert vnc_from_xml(xml).port is None  # autoport: libvirt assigns (the test driver never does)
    assert vnc_from_xml(xml.replace('autoport="yes"', 'port="5907" autoport="no"')).port == 5907
    assert [_disk_target(i) for i in (0, 25, 26)] == ["vda", "vdz", "vdaa"]


# --- host on in-process test-driver connections --------------------------------------------
def open_host(state: Path) -> Host:
    quiet_libvirt()
    store = StateStore(state)
    nodes = simulated_nodes(store.nodes_dir, count=2, cpus=4, memory_mb=4096, disk_mb=10000)
    return Host(nodes, store, disk_dir=state / "disks", vnc_ports=range(5900, 5902))


def test_host_restore_redefines_domains_with_power_state_when_reopened(tmp_path):
    host = open_host(tmp_path)
    for name, start in (("vm-on", True), ("vm-off", False)):
        rec = record(name, "")
        rec.uuid = ""  # define_new gives each domain its own
        host.define_new(rec, node="node2")
        if start:
            host.power_on(name)
        host.set_admin_up(name, start, building=False)
    assert {r.vnc_port for r in host.records.values()} == {5900, 5901}

    reopened = open_host(tmp_path)  # fresh test-driver connections: empty until restored
    assert reopened.nodes["node2"].conn.listAllDomains() == []
    assert reopened.restore() == []
    assert (reopened.power("vm-on"), reopened.power("vm-off")) == ("running", "stopped")
    assert reopened.records["vm-on"].node == "node2" and rec.uuid == reopened.records["vm-off"].uuid
    reopened.relocate("vm-on", "node1")
    assert [d.name() for d in reopened.nodes["node1"].conn.listAllDomains()] == ["vm-on"]
    assert reopened.power("vm-on") == "running"


def test_host_restore_drops_a_partial_build_when_the_agent_died_mid_create(tmp_path):
    host = open_host(tmp_path)
    partial = record("vm-partial", "")
    partial.building = True  # as define_new leaves it until the build ends
    host.define_new(partial, node=None)
    reopened = open_host(tmp_path)
    assert reopened.restore() == ["vm-partial"]
    assert reopened.records == {} and StateStore(tmp_path).load_domains() == []


# --- job queue ------------------------------------------------------------------------------
class Recorder:
    """A job body that logs, optionally blocks on an event, and records the order of runs."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.gate = threading.Event()

    def __call__(self, ctx: JobContext) -> dict:
        self.order.append(ctx.job_id)
        if ctx.params.get("block"):
            self.gate.wait(10)
        if ctx.params.get("fail"):
            raise JobError("it broke")
        ctx.log("did it")
        return {"ok": ctx.job_id}


def wait_for(queue: JobQueue, job_id: int) -> dict:
    data = queue.snapshot(job_id)
    deadline = time.monotonic() + 10
    while not JobStatus(data["status"]).finished and time.monotonic() < deadline:
        data = queue.wait(job_id, serial=0, status=None, progress=None, timeout=5)
    return data


def wait_running(queue: JobQueue, job_id: int) -> None:
    deadline = time.monotonic() + 10
    while queue.snapshot(job_id)["status"] != "running":
        assert time.monotonic() < deadline, queue.snapshot(job_id)
        time.sleep(0.01)


@pytest.fixture
def queue(tmp_path):
    body = Recorder()
    jobs = JobQueue(StateStore(tmp_path), body, workers=4)
    jobs.body = body
    jobs.start()
    yield jobs
    body.gate.set()
    jobs.stop(grace=5)


def test_queue_runs_jobs_on_one_lock_in_order_and_others_meanwhile(queue):
    first = queue.submit("OP_A", "vm1", {"block": True}, ["vm1"])
    wait_running(queue, first)
    second = queue.submit("OP_B", "vm1", {}, ["vm1"])
    other = queue.submit("OP_C", "vm2", {}, ["vm2"])
    assert wait_for(queue, other)["status"] == "success"
    assert queue.snapshot(second)["status"] == "waiting"
    queue.body.gate.set()
    assert wait_for(queue, second)["result"] == {"ok": second}
    assert queue.body.order.index(first) < queue.body.order.index(second)


def test_queue_fails_job_with_its_message_when_body_raises_job_error(queue):
    data = wait_for(queue, queue.submit("OP_A", "vm1", {"fail": True}, ["vm1"]))
    assert (data["status"], data["error"]) == ("error", "it broke")
    assert data["log"][-1]["kind"] == "error"


def test_queue_cancels_a_waiting_job_but_not_a_running_one(queue):
    running = queue.submit("OP_A", "vm1", {"block": True}, ["*"])
    wait_running(queue, running)
    waiting = queue.submit("OP_B", "vm2", {}, ["vm2"])  # `*` holds everything
    assert queue.cancel(waiting) == (True, f"job {waiting} canceled")
    canceled, reason = queue.cancel(running)
    assert not canceled and "running" in reason
    queue.body.gate.set()
    assert wait_for(queue, running)["status"] == "success"
    assert queue.snapshot(waiting)["status"] == "canceled" and waiting not in queue.body.order


def test_queue_wait_returns_when_log_grows_and_times_out_when_nothing_changes(queue):
    job_id = queue.submit("OP_A", "vm1", {"block": True}, ["vm1"])
    wait_running(queue, job_id)
    serial = queue.snapshot(job_id)["log"][-1]["serial"]
    threading.Timer(0.2, queue.body.gate.set).start()
    started = time.monotonic()
    grown = queue.wait(job_id, serial=serial + 5, status="running", progress=None, timeout=5)
    assert grown["status"] == "success" and time.monotonic() - started < 4
    started = time.monotonic()
    same = queue.wait(job_id, serial=grown["log"][-1]["serial"], status="success", progress=-1, timeout=0.3)
    assert same == grown and time.monotonic() - started >= 0.25


def test_queue_recovery_requeues_queued_jobs_and_fails_running_ones(tmp_path):
    store = StateStore(tmp_path)
    store.save_job(JobRecord(job_id=1, operation="OP_A", target="vm1", status=JobStatus.RUNNING))
    store.save_job(JobRecord(job_id=2, operation="OP_A", target="vm2", status=JobStatus.WAITING, locks=["vm2"]))
    body = Recorder()
    jobs = JobQueue(StateStore(tmp_path), body)
    jobs.recover()
    jobs.start()
    try:
        assert (jobs.snapshot(1)["status"], jobs.snapshot(1)["error"]) == ("error", INTERRUPTED)
        assert wait_for(jobs, 2)["status"] == "success" and body.order == [2]
        assert jobs.submit("OP_A", "vm3", {}, []) == 3
    finally:
        jobs.stop(grace=5)


def test_queue_keeps_only_the_newest_finished_jobs_when_over_the_limit(tmp_path):
    jobs = JobQueue(StateStore(tmp_path), Recorder(), keep=2)
    jobs.start()
    try:
        ids = [jobs.submit("OP_A", "vm1", {}, ["vm1"]) for _ in range(4)]  # one lock: they run in order
        wait_for(jobs, ids[-1])
        assert [item["id"] for item in jobs.summaries()] == ids[:1:-1]
        assert sorted(path.name for path in (tmp_path / "jobs").iterdir()) == ["3.json", "4.json"]
    finally:
        jobs.stop(grace=5)


# --- request validation and the driver's interface ------------------------------------------
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "-bad"}, "name must be"),
        ({"name": "ok", "disk_template": "plain"}, "disk_template"),
        ({"name": "ok", "disk_template": "file", "disks": []}, "at least one disk"),
        ({"name": "ok", "disk_template": "file", "disks": [{"size_mb": 0}], "vcpus": 1, "memory_mb": 64}, "size_mb"),
        ({"name": "ok", "disk_template": "diskless", "vcpus": True, "memory_mb": 64}, "vcpus"),
        ({"name": "ok", "disk_template": "diskless", "vcpus": 1, "memory_mb": 64, "nics": [{"mac": "zz"}]}, "MAC"),
    ],
)
def test_create_params_raise_bad_request_when_invalid(body, message):
    with pytest.raises(BadRequestError, match=message):
        _create_params(body)


def test_libvirt_driver_matches_cluster_driver_signatures_when_compared():
    names = [name for name in vars(ClusterDriver) if not name.startswith("_") and callable(vars(ClusterDriver)[name])]
    assert {"create", "migrate", "wait_job", "cancel_job", "close"} <= set(names)
    for name in names:
        expected = inspect.signature(vars(ClusterDriver)[name])
        actual = inspect.signature(vars(LibvirtHostDriver)[name])
        assert list(actual.parameters.values()) == list(expected.parameters.values()), name


def test_endpoint_parsing_raises_unreachable_when_not_a_unix_path():
    assert socket_path_from_endpoint("unix:///run/nefos/agent.sock") == "/run/nefos/agent.sock"
    with pytest.raises(ClusterUnreachable):
        socket_path_from_endpoint("https://example.org:5080")


# --- the embedded cluster service -----------------------------------------------------------
@pytest.mark.django_db
def test_ensure_embedded_cluster_creates_once_and_follows_a_moved_socket(tmp_path):
    socket = tmp_path / "agent.sock"
    cluster = ensure_embedded_cluster(socket_path=socket)
    assert (cluster.name, cluster.kind, cluster.public) == ("embedded", Cluster.Kind.LIBVIRT, True)
    assert cluster.endpoint == f"unix://{socket}" and cluster.disk_templates == ["file", "diskless"]
    assert ensure_embedded_cluster(socket_path=socket).pk == cluster.pk
    assert AuditEvent.objects.filter(action="backend.add_cluster").count() == 1
    moved = ensure_embedded_cluster(socket_path=tmp_path / "new.sock")
    assert moved.endpoint == f"unix://{tmp_path / 'new.sock'}" and Cluster.objects.count() == 1
    assert json.dumps(AuditEvent.objects.get(action="backend.update_cluster").detail)


@pytest.mark.django_db
def test_register_command_prints_the_cluster_when_run(tmp_path, capsys):
    call_command("libvirt_host", "register", "--socket", str(tmp_path / "agent.sock"))
    assert "cluster embedded (libvirt) at unix://" in capsys.readouterr().out
    assert Cluster.objects.get(name="embedded").endpoint == f"unix://{Path(tmp_path) / 'agent.sock'}"
