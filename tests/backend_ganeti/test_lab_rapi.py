"""The RAPI client against real Ganeti 3.0 clusters of the lab (scripts/lab/ganeti_lab.py).

Skipped unless NEFOS_LAB_RAPI names the running lab's endpoints; `make lab-test` sets it.
Instances use the ``fake`` hypervisor and the lab's no-op OS, so only Ganeti's logic runs.
"""

from __future__ import annotations

import time
import uuid

import pytest

from backend_ganeti.rapi import (
    AuthenticationFailed,
    BadRequest,
    InstanceSpec,
    JobFailed,
    NotFound,
)
from tests.backend_ganeti.conftest import client_for

pytestmark = pytest.mark.ganeti


def _name(prefix: str) -> str:
    """A fresh instance name (instances need not resolve: name_check is off)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}.nefos.lab"


def _spec(name: str, pnode: str, *, template: str = "diskless") -> InstanceSpec:
    """A fake-hypervisor instance: ipolicy wants >= 1 NIC, and a disk >= 1 GiB for `file`."""
    disks = [{"size": 1024}] if template == "file" else []
    return InstanceSpec(
        name=name,
        disk_template=template,
        os_type="noop",
        disks=disks,
        nics=[{}],
        pnode=pnode,
        hypervisor="fake",
        beparams={"memory": 128, "vcpus": 1},
    )


def test_info_names_each_cluster_when_lab_running(lab, rapi_a, rapi_b):
    for client, endpoint in ((rapi_a, lab["a"]), (rapi_b, lab["b"])):
        info = client.info()
        assert info.name == endpoint["cluster_name"]
        assert info.master == endpoint["master"]
        assert info.software_version.startswith("3.0")
        assert {"fake", "kvm"} <= set(info.enabled_hypervisors)
        assert {"diskless", "file"} <= set(info.enabled_disk_templates)


def test_nodes_report_capacity_when_bulk(lab, rapi_a):
    nodes = rapi_a.nodes(bulk=True)
    assert sorted(n.name for n in nodes) == sorted(lab["a"]["nodes"])
    for node in nodes:
        assert node.mtotal and node.mtotal > 0
        assert node.mfree is not None and node.dtotal is not None and node.dfree is not None
        assert node.group_uuid
    assert sorted(rapi_a.nodes(bulk=False)) == sorted(lab["a"]["nodes"])


def test_groups_and_networks_list_when_queried(rapi_a):
    groups = rapi_a.groups()
    assert groups and groups[0].name == "default"
    assert rapi_a.networks() == []
    assert "instance-create-reqv1" in rapi_a.features()


def test_instance_lifecycle_runs_when_fake_hypervisor(lab, rapi_a):
    master = lab["a"]["master"]
    name = _name("life")
    started = time.monotonic()
    job = rapi_a.wait_for_job(rapi_a.create_instance(_spec(name, master)), timeout=120)
    created_s = time.monotonic() - started
    assert job.status == "success" and job.opresult == [[master]]
    try:
        inst = rapi_a.instance(name)
        assert (inst.pnode, inst.oper_state, inst.admin_state) == (master, True, "up")
        assert name in [i.name for i in rapi_a.instances(bulk=True)]
        assert rapi_a.console(name)["instance"] == name

        rapi_a.wait_for_job(rapi_a.shutdown(name, timeout=10))
        assert rapi_a.instance(name).oper_state is False
        rapi_a.wait_for_job(rapi_a.startup(name))
        assert rapi_a.instance(name).oper_state is True
        rapi_a.wait_for_job(rapi_a.reboot(name, reboot_type="soft"))
        rapi_a.wait_for_job(rapi_a.reboot(name, reboot_type="hard"))
        rapi_a.wait_for_job(rapi_a.modify(name, beparams={"memory": 256}))
        assert rapi_a.instance(name).beparams["maxmem"] == 256
    finally:
        rapi_a.wait_for_job(rapi_a.remove_instance(name))
    with pytest.raises(NotFound):
        rapi_a.instance(name)
    assert created_s < 60


def test_live_migrate_moves_instance_when_cluster_has_two_nodes(lab, rapi_a):
    nodes = lab["a"]["nodes"]
    if len(nodes) < 2:
        pytest.skip("cluster A has one node")
    name = _name("mig")
    rapi_a.wait_for_job(rapi_a.create_instance(_spec(name, nodes[0])))
    try:
        rapi_a.wait_for_job(rapi_a.migrate(name, mode="live", target_node=nodes[1]), timeout=120)
        assert rapi_a.instance(name).pnode == nodes[1]
        rapi_a.wait_for_job(rapi_a.migrate(name, mode="live", target_node=nodes[0]), timeout=120)
        assert rapi_a.instance(name).pnode == nodes[0]
    finally:
        rapi_a.wait_for_job(rapi_a.remove_instance(name))


def test_file_instance_disk_grows_when_asked(lab, rapi_b):
    name = _name("file")
    rapi_b.wait_for_job(rapi_b.create_instance(_spec(name, lab["b"]["master"], template="file")))
    try:
        rapi_b.wait_for_job(rapi_b.grow_disk(name, 0, 512))
        assert rapi_b.instance(name).disk_sizes == [1536]
    finally:
        rapi_b.wait_for_job(rapi_b.remove_instance(name))


def test_long_poll_reports_change_when_job_runs(lab, rapi_a):
    name = _name("poll")
    job_id = rapi_a.create_instance(_spec(name, lab["a"]["master"]))
    try:
        change = rapi_a.wait_for_job_change(job_id, ["status"])
        assert change is not None and change.job_info[0] in ("queued", "waiting", "running", "success")
    finally:
        rapi_a.wait_for_job(job_id)
        rapi_a.wait_for_job(rapi_a.remove_instance(name))


def test_bad_request_carries_cluster_message_when_body_incomplete(rapi_a):
    with pytest.raises(BadRequest) as caught:
        rapi_a.request("POST", "/2/instances", body={"__version__": 1, "mode": "create"})
    assert caught.value.status == 400
    assert "name" in caught.value.message or "missing" in caught.value.message.lower()


def test_job_failure_carries_cluster_reason_when_os_unknown(lab, rapi_a):
    spec = _spec(_name("bados"), lab["a"]["master"])
    spec = InstanceSpec(**{**spec.__dict__, "os_type": "no-such-os"})
    with pytest.raises(JobFailed) as caught:
        rapi_a.wait_for_job(rapi_a.create_instance(spec))
    assert caught.value.status == "error"
    assert "no-such-os" in caught.value.message


def test_wrong_password_raises_authentication_failed_when_writing(lab):
    client = client_for(lab["a"], password="wrong-password")
    with pytest.raises(AuthenticationFailed) as caught:
        client.info()
    assert caught.value.status == 401
    assert "wrong-password" not in str(caught.value) + repr(client)


def test_missing_job_raises_not_found_when_id_unknown(rapi_a):
    with pytest.raises(NotFound):
        rapi_a.job(999999)
