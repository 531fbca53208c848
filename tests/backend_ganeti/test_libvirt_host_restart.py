"""The libvirt host agent across restarts, with small nodes, and when it is not running.

Each test starts its own agent subprocess (killed by PID; its temp dir removed afterwards).
"""

from __future__ import annotations

import signal

import pytest

from backend_ganeti.drivers.libvirt import LibvirtHostDriver
from backend_ganeti.drivers.types import JobState, PowerState
from backend_ganeti.libvirt_host.jobs import INTERRUPTED
from backend_ganeti.rapi.errors import ClusterUnreachable
from tests.backend_ganeti.libvirt_agent import AgentProcess, agent_dir, finish, running_agent, spec

SMALL = ("--node-memory-mb", "4096", "--node-disk-mb", "10240", "--node-cpus", "4")


def test_instances_power_states_and_job_ids_survive_when_agent_is_killed():
    with agent_dir() as root:
        agent = AgentProcess(root).start()
        try:
            driver = agent.driver()
            running_job = finish(driver, driver.create(spec("vm-up")))
            stopped_job = finish(driver, driver.create(spec("vm-down", start=False)))
            placed = {info.name: info.primary_node for info in driver.instances()}
            nodes_before = driver.nodes()
            agent.kill(signal.SIGKILL)
            assert agent.socket.exists()  # a stale socket is left behind
            with pytest.raises(ClusterUnreachable):
                driver.instances()

            agent.start()
            states = {info.name: (info.power, info.admin_up, info.primary_node) for info in driver.instances()}
            assert states == {
                "vm-up": (PowerState.RUNNING, True, placed["vm-up"]),
                "vm-down": (PowerState.STOPPED, False, placed["vm-down"]),
            }
            assert driver.nodes() == nodes_before
            assert driver.job(running_job.job_id) == running_job
            new_job = driver.stop("vm-up")
            assert int(new_job) > int(stopped_job.job_id)
            assert finish(driver, new_job).state == JobState.SUCCESS
            agent.kill(signal.SIGTERM)
            assert not agent.socket.exists()  # a clean stop removes its socket

            agent.start()
            assert driver.instance("vm-up").power == PowerState.STOPPED
        finally:
            agent.kill()


def test_create_is_reported_interrupted_and_rolled_back_when_agent_dies_mid_build():
    with agent_dir() as root:
        agent = AgentProcess(root, build_delay=30).start()
        try:
            driver = agent.driver()
            job_id = driver.create(spec("vm-partial"))
            status = driver.job(job_id)
            while not any(entry.message.startswith("allocating disks") for entry in status.log):
                status = driver.wait_job(job_id, previous=status, timeout=5)
            assert [info.name for info in driver.instances()] == ["vm-partial"]
            agent.kill(signal.SIGKILL)
            agent.start()
            status = driver.job(job_id)
            assert status.state == JobState.ERROR and status.error == INTERRUPTED
            assert driver.instances() == []
            assert all(node.mfree == node.mtotal for node in driver.nodes())
        finally:
            agent.kill()


def test_driver_raises_cluster_unreachable_when_no_agent_listens():
    with agent_dir() as root:
        driver = LibvirtHostDriver.for_socket(str(root / "absent.sock"), cluster="nowhere", timeout=1)
        with pytest.raises(ClusterUnreachable, match="cannot reach the libvirt host agent"):
            driver.summary()
        with pytest.raises(ClusterUnreachable):
            driver.create(spec("vm-x"))


def test_second_agent_refuses_to_start_when_socket_is_in_use():
    with running_agent() as first:
        second = AgentProcess(first.root, "--state-dir", str(first.root / "other"))
        try:
            assert second.spawn().wait(timeout=30) != 0
        finally:
            second.kill()
        assert "another host agent is listening" in second.log()
        assert first.driver().summary().name == "libvirt-host"


def test_placement_spreads_by_free_memory_and_fails_when_nodes_are_full():
    with running_agent(*SMALL) as agent:
        driver = agent.driver()
        first = finish(driver, driver.create(spec("vm-a", memory_mb=3072, disk_mb=4096)))
        second = finish(driver, driver.create(spec("vm-b", memory_mb=3072, disk_mb=4096)))
        assert (first.result["node"], second.result["node"]) == ("node1", "node2")
        nodes = {node.name: node for node in driver.nodes()}
        assert (nodes["node1"].mfree, nodes["node1"].dfree, nodes["node1"].pinst_cnt) == (1024, 6144, 1)
        assert (nodes["node1"].mtotal, nodes["node1"].dtotal, nodes["node1"].ctotal) == (4096, 10240, 4)

        full = finish(driver, driver.create(spec("vm-c", memory_mb=2048)))
        assert full.state == JobState.ERROR and "no node can take 2048 MiB" in full.error
        named = finish(driver, driver.create(spec("vm-d", memory_mb=2048, primary_node="node2")))
        assert "not enough memory on node node2" in named.error
        no_room = finish(driver, driver.migrate("vm-a"))
        assert no_room.state == JobState.ERROR and "memory" in no_room.error
        grow = finish(driver, driver.grow_disk("vm-a", 0, 8000))
        assert grow.state == JobState.ERROR and "not enough disk space" in grow.error

        finish(driver, driver.destroy("vm-b"))
        assert finish(driver, driver.create(spec("vm-c", memory_mb=2048))).result["node"] == "node2"
