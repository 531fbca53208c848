"""The embedded libvirt host end to end: a real agent subprocess driven through LibvirtHostDriver.

One agent (two simulated 32 GiB nodes, short delays) serves the whole module; each test uses its
own instance names. Restarts, capacity limits and an absent agent are in
test_libvirt_host_restart.py.
"""

from __future__ import annotations

import time

import pytest

from backend_ganeti.drivers.base import ClusterDriver
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobState, NicSpec, PowerState
from backend_ganeti.rapi.errors import BadRequest, Conflict, NotFound
from tests.backend_ganeti.libvirt_agent import finish, running_agent, spec


@pytest.fixture(scope="module")
def agent():
    """One agent for the module (build 0.45 s so progress has steps; other steps 0.05 s)."""
    with running_agent(build_delay=0.45, op_delay=0.05) as process:
        yield process


@pytest.fixture
def driver(agent):
    return agent.driver()


def created(driver, name: str, **fields) -> str:
    """Create `name` and wait for success; returns the job id."""
    job_id = driver.create(spec(name, **fields))
    status = finish(driver, job_id)
    assert status.state == JobState.SUCCESS, status
    return job_id


def test_driver_is_a_cluster_driver_when_built_for_a_socket(driver):
    assert isinstance(driver, ClusterDriver)
    summary = driver.summary()
    assert summary.hypervisor == "test"
    assert summary.disk_templates == ("file", "diskless")
    assert [node.name for node in driver.nodes()] == ["node1", "node2"]
    assert driver.groups()[0].name == "default"
    assert "default" in driver.networks()


def test_create_goes_through_progress_to_running_when_build_succeeds(driver):
    job_id = driver.create(spec("vm-create", memory_mb=1024, disk_mb=2048))
    seen = []
    status = driver.wait_job(job_id, previous=None, timeout=0)
    while not status.finished:
        seen.append((status.state, status.progress))
        status = driver.wait_job(job_id, previous=status, timeout=5)
    assert status.state == JobState.SUCCESS and status.progress == 100
    assert status.operations == ("OP_INSTANCE_CREATE",)
    assert any(state == JobState.RUNNING and progress is not None and 0 < progress < 100 for state, progress in seen)
    messages = [entry.message for entry in status.log]
    assert "defining domain" in messages
    assert any(message.startswith("allocating disks") for message in messages)
    assert [entry.serial for entry in status.log] == list(range(1, len(status.log) + 1))
    info = driver.instance("vm-create")
    assert info.power == PowerState.RUNNING and info.admin_up
    assert (info.vcpus, info.memory_mb, info.disk_template) == (1, 1024, "file")
    assert [disk.size_mb for disk in info.disks] == [2048]
    assert info.nics[0].mac.startswith("52:54:00:")
    assert info.primary_node == status.result["node"]


def test_instance_stops_and_starts_when_asked(driver):
    created(driver, "vm-power")
    assert finish(driver, driver.stop("vm-power", timeout=5)).state == JobState.SUCCESS
    info = driver.instance("vm-power")
    assert (info.power, info.admin_up) == (PowerState.STOPPED, False)
    assert finish(driver, driver.start("vm-power")).state == JobState.SUCCESS
    info = driver.instance("vm-power")
    assert (info.power, info.admin_up) == (PowerState.RUNNING, True)


def test_reboot_succeeds_when_running_and_fails_when_stopped(driver):
    created(driver, "vm-reboot")
    assert finish(driver, driver.reboot("vm-reboot")).state == JobState.SUCCESS
    assert finish(driver, driver.reboot("vm-reboot", hard=True)).state == JobState.SUCCESS
    finish(driver, driver.stop("vm-reboot"))
    status = finish(driver, driver.reboot("vm-reboot"))
    assert status.state == JobState.ERROR
    assert "not running" in status.error


def test_migrate_moves_running_instance_when_other_node_has_room(driver):
    created(driver, "vm-migrate")
    source = driver.instance("vm-migrate").primary_node
    status = finish(driver, driver.migrate("vm-migrate"))
    assert status.state == JobState.SUCCESS, status
    info = driver.instance("vm-migrate")
    assert info.primary_node != source and info.primary_node == status.result["node"]
    assert info.power == PowerState.RUNNING
    back = finish(driver, driver.migrate("vm-migrate", target_node=source))
    assert back.state == JobState.SUCCESS and driver.instance("vm-migrate").primary_node == source


def test_migrate_fails_when_instance_is_stopped_but_failover_moves_it(driver):
    created(driver, "vm-failover", start=False)
    assert driver.instance("vm-failover").power == PowerState.STOPPED
    source = driver.instance("vm-failover").primary_node
    assert "not running" in finish(driver, driver.migrate("vm-failover")).error
    assert finish(driver, driver.failover("vm-failover")).state == JobState.SUCCESS
    info = driver.instance("vm-failover")
    assert info.primary_node != source and info.power == PowerState.STOPPED


def test_destroy_removes_instance_and_frees_capacity(driver):
    before = {node.name: node.mfree for node in driver.nodes()}
    created(driver, "vm-destroy", memory_mb=2048)
    node = driver.instance("vm-destroy").primary_node
    assert {n.name: n.mfree for n in driver.nodes()}[node] == before[node] - 2048
    assert finish(driver, driver.destroy("vm-destroy")).state == JobState.SUCCESS
    with pytest.raises(NotFound):
        driver.instance("vm-destroy")
    assert {n.name: n.mfree for n in driver.nodes()} == before


def test_create_conflicts_when_name_exists_or_is_being_created(driver):
    job_id = driver.create(spec("vm-dup"))
    with pytest.raises(Conflict, match="being created"):
        driver.create(spec("vm-dup"))
    finish(driver, job_id)
    with pytest.raises(Conflict, match="already exists"):
        driver.create(spec("vm-dup"))


def test_operations_raise_not_found_when_instance_or_job_is_unknown(driver):
    with pytest.raises(NotFound):
        driver.instance("no-such-vm")
    with pytest.raises(NotFound):
        driver.start("no-such-vm")
    with pytest.raises(NotFound):
        driver.job("999999")
    with pytest.raises(NotFound):
        driver.evacuate_node("no-such-node")


def test_requests_raise_bad_request_when_parameters_are_invalid(driver):
    with pytest.raises(BadRequest, match="disk_template"):
        driver.create(CreateSpec(name="vm-bad", vcpus=1, memory_mb=512, disk_template="drbd", disks=()))
    with pytest.raises(BadRequest, match="diskless"):
        bad = CreateSpec(name="vm-bad", vcpus=1, memory_mb=512, disk_template="diskless", disks=(DiskSpec(size_mb=1),))
        driver.create(bad)
    with pytest.raises(BadRequest, match="secondary"):
        driver.create(spec("vm-bad", secondary_node="node2"))
    with pytest.raises(BadRequest, match="unknown node"):
        driver.create(spec("vm-bad", primary_node="node9"))
    created(driver, "vm-template")
    with pytest.raises(BadRequest, match="not supported"):
        driver.change_disk_template("vm-template", "drbd")


def test_create_job_fails_when_no_node_has_the_memory(driver):
    status = finish(driver, driver.create(spec("vm-huge", memory_mb=40000)))
    assert status.state == JobState.ERROR
    assert "40000 MiB of memory" in status.error
    with pytest.raises(NotFound):
        driver.instance("vm-huge")


def test_modify_changes_flavor_disks_and_nics_when_asked(driver):
    created(driver, "vm-modify")
    assert finish(driver, driver.resize("vm-modify", vcpus=2, memory_mb=768)).state == JobState.SUCCESS
    assert finish(driver, driver.add_disk("vm-modify", DiskSpec(size_mb=300, name="data"))).state == JobState.SUCCESS
    assert finish(driver, driver.grow_disk("vm-modify", 1, 200)).state == JobState.SUCCESS
    assert (
        finish(driver, driver.add_nic("vm-modify", NicSpec(mac="aa:00:00:12:34:56", link="br0"))).state
        == JobState.SUCCESS
    )
    info = driver.instance("vm-modify")
    assert (info.vcpus, info.memory_mb) == (2, 768)
    assert [(d.size_mb, d.name) for d in info.disks] == [(1024, ""), (500, "data")]
    assert [nic.mac for nic in info.nics][1] == "aa:00:00:12:34:56" and info.nics[1].link == "br0"
    assert finish(driver, driver.remove_disk("vm-modify", 0)).state == JobState.SUCCESS
    assert finish(driver, driver.remove_nic("vm-modify", 0)).state == JobState.SUCCESS
    info = driver.instance("vm-modify")
    assert [d.size_mb for d in info.disks] == [500] and len(info.nics) == 1
    status = finish(driver, driver.remove_disk("vm-modify", 0))
    assert status.state == JobState.ERROR and "last disk" in status.error


def test_console_reports_a_stable_port_when_host_is_simulated(driver):
    created(driver, "vm-console")
    first = driver.console("vm-console")
    assert (first.kind, first.host) == ("vnc", "127.0.0.1")
    assert 5900 <= first.port < 6900 and first.extra["simulated"] is True
    assert "nothing listens" in first.extra["note"]
    assert driver.console("vm-console").port == first.port
    finish(driver, driver.stop("vm-console"))
    with pytest.raises(Conflict, match="not running"):
        driver.console("vm-console")


def test_wait_job_returns_early_when_the_job_changes(driver):
    job_id = driver.create(spec("vm-wait"))
    status = driver.job(job_id)
    started = time.monotonic()
    changed = driver.wait_job(job_id, previous=status, timeout=20)
    assert time.monotonic() - started < 5
    assert (changed.last_serial, changed.state, changed.progress) != (status.last_serial, status.state, status.progress)
    done = finish(driver, job_id)
    started = time.monotonic()
    same = driver.wait_job(job_id, previous=done, timeout=0.5)
    assert 0.4 < time.monotonic() - started < 5
    assert same == done


def test_cancel_succeeds_when_job_waits_and_fails_when_it_runs(driver):
    create_id = driver.create(spec("vm-cancel"))
    start_id = driver.start("vm-cancel")  # waits behind the create on the same instance
    assert driver.cancel_job(start_id) is True
    assert driver.job(start_id).state == JobState.CANCELED
    driver.wait_job(create_id, previous=driver.job(create_id), timeout=5)
    assert driver.cancel_job(create_id) is False
    assert finish(driver, create_id).state == JobState.SUCCESS


def test_jobs_on_one_instance_run_in_submission_order_when_queued_together(driver):
    create_id = driver.create(spec("vm-order"))
    stop_id = driver.stop("vm-order")
    stop = finish(driver, stop_id)
    create = finish(driver, create_id)
    assert create.state == stop.state == JobState.SUCCESS
    assert int(stop_id) > int(create_id) and stop.started_at >= create.ended_at
    assert driver.instance("vm-order").power == PowerState.STOPPED


def test_drained_node_takes_no_instances_and_evacuate_empties_it(driver):
    created(driver, "vm-evac-1", primary_node="node1")
    created(driver, "vm-evac-2", primary_node="node1", start=False)
    assert finish(driver, driver.set_node_drained("node1", True)).state == JobState.SUCCESS
    assert {n.name: n.drained for n in driver.nodes()} == {"node1": True, "node2": False}
    assert {n.name: n.role for n in driver.nodes()}["node1"] == "D"
    assert finish(driver, driver.create(spec("vm-evac-new"))).result["node"] == "node2"
    status = finish(driver, driver.evacuate_node("node1"))
    assert status.state == JobState.SUCCESS, status
    assert status.result["moved"]["vm-evac-1"] == status.result["moved"]["vm-evac-2"] == "node2"
    assert {n.name: n.pinst_cnt for n in driver.nodes()}["node1"] == 0
    assert driver.instance("vm-evac-1").power == PowerState.RUNNING
    assert driver.instance("vm-evac-2").power == PowerState.STOPPED
    assert finish(driver, driver.set_node_drained("node1", False)).state == JobState.SUCCESS
