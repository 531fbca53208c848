"""Unit tests of GanetiDriver against the scripted fake RAPI server (no Ganeti needed).

The JSON below was recorded from Ganeti 3.0.2 in the lab (scripts/lab/ganeti_lab.py) and
trimmed to the fields the driver reads, plus a few neighbours, so shapes stay realistic.
"""

from __future__ import annotations

import socket

import pytest

from backend_ganeti.drivers.base import ClusterDriver
from backend_ganeti.drivers.ganeti import GanetiDriver
from backend_ganeti.drivers.ganeti_mapping import child_job_ids, parse_progress
from backend_ganeti.drivers.types import (
    CreateSpec,
    DiskSpec,
    JobLogEntry,
    JobState,
    JobStatus,
    NicSpec,
    PowerState,
)
from backend_ganeti.models import Cluster
from backend_ganeti.rapi import (
    BadRequest,
    ClusterUnreachable,
    GanetiApiError,
    NotFound,
    RapiClient,
    ServiceUnavailable,
)
from tests.backend_ganeti.fake_rapi import FakeRapi

SECRET = "s3cr3t-pass"
GROUP_UUID = "2f2ae9d6-3460-4cd8-bfde-36bdcaf31d16"

INFO = {
    "software_version": "3.0.2",
    "protocol_version": 3000000,
    "name": "cluster-a.nefos.lab",
    "master": "a1.nefos.lab",
    "default_hypervisor": "fake",
    "enabled_hypervisors": ["fake", "kvm"],
    "enabled_disk_templates": ["diskless", "file"],
    "default_iallocator": "hail",
}

NODE_A1 = {
    "name": "a1.nefos.lab",
    "offline": False,
    "master_candidate": True,
    "drained": False,
    "dtotal": 258019,
    "dfree": 80516,
    "sptotal": None,
    "spfree": None,
    "mtotal": 24105,
    "mnode": 414,
    "mfree": 22969,
    "pinst_cnt": 1,
    "sinst_cnt": 0,
    "ctotal": 2,
    "pip": "10.77.1.11",
    "sip": "10.77.1.11",
    "role": "M",
    "master_capable": True,
    "vm_capable": True,
    "group.uuid": GROUP_UUID,
    "ctime": 1795775867.1889021,
    "mtime": 1795775867.1889021,
    "uuid": "92a8647f-b728-449b-a5e7-52985b5cd55f",
    "serial_no": 1,
    "tags": [],
}
NODE_A2_OFFLINE = {
    **NODE_A1,
    "name": "a2.nefos.lab",
    "offline": True,
    "master_candidate": False,
    "role": "O",
    "dtotal": None,
    "dfree": None,
    "mtotal": None,
    "mfree": None,
    "ctotal": None,
    "pinst_cnt": 0,
    "pip": "10.77.1.12",
}

GROUP = {
    "alloc_policy": "preferred",
    "name": "default",
    "node_cnt": 2,
    "node_list": ["a1.nefos.lab", "a2.nefos.lab"],
    "uuid": GROUP_UUID,
    "serial_no": 1,
    "tags": [],
}

INSTANCE = {
    "name": "cap-521ce4.nefos.lab",
    "admin_state": "up",
    "os": "noop",
    "pnode": "a1.nefos.lab",
    "snodes": [],
    "disk_template": "file",
    "nic.ips": [None],
    "nic.macs": ["aa:00:00:11:22:33"],
    "nic.modes": ["bridged"],
    "nic.names": ["eth0"],
    "nic.links": ["gnt0"],
    "nic.networks": [None],
    "nic.networks.names": [None],
    "nic.bridges": ["gnt0"],
    "network_port": None,
    "disk.sizes": [1024],
    "disk.spindles": [None],
    "disk_usage": 1024,
    "disk.names": ["root"],
    "beparams": {
        "minmem": 128,
        "maxmem": 128,
        "vcpus": 1,
        "auto_balance": True,
        "always_failover": False,
        "spindle_use": 1,
        "memory": 128,
    },
    "hvparams": {},
    "oper_state": True,
    "oper_ram": 128,
    "oper_vcpus": 1,
    "status": "running",
    "custom_beparams": {"minmem": 128, "maxmem": 128, "vcpus": 1},
    "ctime": 1795775915.7368941,
    "mtime": 1795775916.477582,
    "uuid": "e3706999-39a1-45c5-bdf0-c3f1979cc097",
    "serial_no": 3,
    "tags": ["nefos:project:p1"],
}

CREATE_JOB = {
    "id": 4,
    "status": "success",
    "summary": ["INSTANCE_CREATE(cap-521ce4.nefos.lab)"],
    "opstatus": ["success"],
    "received_ts": [1795775914, 738479],
    "start_ts": [1795775915, 78880],
    "end_ts": [1795775916, 642156],
    "oplog": [
        [
            [1, [1795775915, 567497], "message", "* disk 0, size 1.0G"],
            [2, [1795775915, 573211], "message", "* creating instance disks..."],
            [3, [1795775915, 731611], "message", "adding instance cap-521ce4.nefos.lab to cluster config"],
            [4, [1795775915, 941001], "message", "adding disks to cluster config"],
            [5, [1795775915, 957141], "message", " - INFO: Waiting for instance cap-521ce4.nefos.lab to sync disks"],
            [6, [1795775916, 39632], "message", " - INFO: Instance cap-521ce4.nefos.lab's disks are in sync"],
            [9, [1795775916, 159557], "message", "* running the instance OS create scripts..."],
            [10, [1795775916, 488882], "message", "* starting instance..."],
        ]
    ],
    "opresult": [["a1.nefos.lab"]],
}

FAILED_JOB = {
    "id": 6,
    "status": "error",
    "summary": ["INSTANCE_SET_PARAMS(cap-521ce4.nefos.lab)"],
    "opstatus": ["error"],
    "received_ts": [1795775918, 272221],
    "start_ts": [1795775918, 546741],
    "end_ts": [1795775918, 694623],
    "oplog": [[]],
    "opresult": [
        [
            "OpPrereqError",
            [
                "Instance 'cap-521ce4.nefos.lab' is marked to be up, can't remove volume from a running instance"
                " without using hotplug",
                "wrong_state",
            ],
        ]
    ],
}

RUNNING_JOB = {
    "id": 7,
    "status": "running",
    "summary": ["INSTANCE_MIGRATE(vm1.nefos.lab)"],
    "opstatus": ["running"],
    "received_ts": [1795775920, 1],
    "start_ts": [1795775920, 500000],
    "end_ts": None,
    "oplog": [[[1, [1795775921, 0], "message", "* memory transfer progress: 12.50 %"]]],
    "opresult": [None],
}


@pytest.fixture
def fake():
    server = FakeRapi().start()
    yield server
    server.stop()


@pytest.fixture
def driver(fake):
    client = RapiClient(fake.url, username="nefos", password=SECRET, cluster="test", retries=3, retry_wait=0)
    drv = GanetiDriver(client)
    yield drv
    drv.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log(*messages: str) -> tuple[JobLogEntry, ...]:
    return tuple(JobLogEntry(serial=i + 1, timestamp=0.0, kind="message", message=m) for i, m in enumerate(messages))


# -- queries ------------------------------------------------------------------------------------


def test_driver_satisfies_protocol_when_built(driver):
    assert isinstance(driver, ClusterDriver)


def test_summary_maps_info_when_cluster_answers(fake, driver):
    fake.add("GET", "/2/info", INFO)
    summary = driver.summary()
    assert summary.name == "cluster-a.nefos.lab"
    assert (summary.software_version, summary.hypervisor, summary.master) == ("3.0.2", "fake", "a1.nefos.lab")
    assert summary.disk_templates == ("diskless", "file")


def test_nodes_map_role_group_and_capacity_when_bulk(fake, driver):
    fake.add("GET", "/2/groups", [GROUP])
    fake.add("GET", "/2/nodes", [NODE_A1, NODE_A2_OFFLINE])
    a1, a2 = driver.nodes()
    assert (a1.name, a1.group, a1.role, a1.address) == ("a1.nefos.lab", "default", "M", "10.77.1.11")
    assert (a1.mtotal, a1.mfree, a1.dtotal, a1.dfree, a1.ctotal, a1.pinst_cnt) == (24105, 22969, 258019, 80516, 2, 1)
    assert not a1.offline and not a1.drained and a1.vm_capable
    assert a2.role == "O" and a2.offline
    assert (a2.mtotal, a2.mfree, a2.dtotal, a2.dfree, a2.ctotal) == (None, None, None, None, None)
    assert fake.requests[-1]["query"] == {"bulk": ["1"]}


def test_groups_map_name_uuid_policy_when_listed(fake, driver):
    fake.add("GET", "/2/groups", [GROUP])
    (group,) = driver.groups()
    assert (group.name, group.uuid, group.alloc_policy) == ("default", GROUP_UUID, "preferred")


def test_instance_maps_recorded_shape_when_running(fake, driver):
    fake.add("GET", "/2/instances/cap-521ce4.nefos.lab", INSTANCE)
    info = driver.instance("cap-521ce4.nefos.lab")
    assert (info.primary_node, info.secondary_nodes) == ("a1.nefos.lab", ())
    assert (info.power, info.admin_up) == (PowerState.RUNNING, True)
    assert (info.vcpus, info.memory_mb, info.disk_template, info.os) == (1, 128, "file", "noop")
    assert [(d.size_mb, d.name, d.template) for d in info.disks] == [(1024, "root", "file")]
    (nic,) = info.nics
    assert (nic.mac, nic.ip, nic.network, nic.link, nic.name) == ("aa:00:00:11:22:33", None, None, "gnt0", "eth0")
    assert info.mtime == pytest.approx(1795775916.477582)
    assert info.tags == ("nefos:project:p1",)


@pytest.mark.parametrize(
    ("status", "oper_state", "admin_state", "power", "admin_up"),
    [
        ("running", True, "up", PowerState.RUNNING, True),
        ("ADMIN_down", False, "down", PowerState.STOPPED, False),
        ("USER_down", False, "up", PowerState.STOPPED, True),
        ("ERROR_down", False, "up", PowerState.ERROR, True),
        ("ERROR_up", True, "down", PowerState.ERROR, False),
        ("ERROR_nodedown", None, "up", PowerState.ERROR, True),
        ("ERROR_nodeoffline", None, "up", PowerState.ERROR, True),
    ],
)
def test_instance_power_follows_ganeti_status_when_mapped(
    fake, driver, status, oper_state, admin_state, power, admin_up
):
    fake.add(
        "GET", "/2/instances/vm1", {**INSTANCE, "status": status, "oper_state": oper_state, "admin_state": admin_state}
    )
    info = driver.instance("vm1")
    assert (info.power, info.admin_up) == (power, admin_up)


def test_instances_map_network_names_and_all_disks_when_bulk(fake, driver):
    two_nics = {
        **INSTANCE,
        "name": "vm2",
        "disk.sizes": [1024, 2048],
        "disk.names": [None, "data"],
        "nic.macs": ["aa:00:00:00:00:01", "aa:00:00:00:00:02"],
        "nic.ips": ["192.0.2.10", None],
        "nic.networks": ["9b1a-uuid", None],
        "nic.networks.names": ["public", None],
        "nic.links": ["br-pub", "gnt0"],
        "nic.names": [None, None],
        "beparams": {"maxmem": 2048, "minmem": 1024, "vcpus": 4},
    }
    fake.add("GET", "/2/instances", [INSTANCE, two_nics])
    infos = driver.instances()
    assert fake.requests[0]["query"] == {"bulk": ["1"]}
    vm2 = infos[1]
    assert [(d.size_mb, d.name) for d in vm2.disks] == [(1024, ""), (2048, "data")]
    assert [(n.ip, n.network, n.link) for n in vm2.nics] == [("192.0.2.10", "public", "br-pub"), (None, None, "gnt0")]
    assert (vm2.vcpus, vm2.memory_mb) == (4, 2048)


def test_networks_list_names_when_cluster_has_some(fake, driver):
    fake.add("GET", "/2/networks", [{"name": "public", "network": "192.0.2.0/24"}])
    assert driver.networks() == ["public"]


def test_console_keeps_message_when_fake_hypervisor(fake, driver):
    recorded = {"instance": "vm1", "kind": "msg", "message": "Console not available for fake hypervisor"}
    fake.add("GET", "/2/instances/vm1/console", recorded)
    console = driver.console("vm1")
    assert (console.kind, console.host, console.port) == ("msg", "", 0)
    assert console.extra == {"message": "Console not available for fake hypervisor"}


def test_console_uses_primary_node_address_when_vnc_binds_wildcard(fake, driver):
    fake.add("GET", "/2/instances/vm1/console", {"instance": "vm1", "kind": "vnc", "host": "0.0.0.0", "port": 11002})
    fake.add("GET", "/2/instances/vm1", {**INSTANCE, "name": "vm1", "pnode": "a2.nefos.lab"})
    fake.add("GET", "/2/nodes", [NODE_A1, {**NODE_A2_OFFLINE, "offline": False, "role": "R"}])
    console = driver.console("vm1")
    assert (console.kind, console.host, console.port) == ("vnc", "10.77.1.12", 11002)


# Recorded from Ganeti 3.0.2 in the lab: a kvm instance with serial_console=false (VNC on
# 0.0.0.0, the lab's cluster default). luxid cannot parse the console's `display` field, so RAPI
# answers 500; the instance's own data has what Ganeti's kvm console would say.
CONSOLE_500 = {"code": 500, "message": "Internal Server Error", "explain": "Server got itself in trouble"}
KVM_VNC_INSTANCE = {
    **INSTANCE,
    "name": "kvm-vnc1.nefos.lab",
    "disk_template": "diskless",
    "disk.sizes": [],
    "network_port": 11000,
    "hvparams": {
        "acpi": True,
        "boot_order": "disk",
        "kernel_path": "",
        "kvm_flag": "disabled",
        "kvm_path": "/usr/bin/qemu-system-x86_64",
        "serial_console": False,
        "spice_bind": "",
        "vnc_bind_address": "0.0.0.0",
        "vnc_password_file": "",
        "vnc_tls": False,
    },
    "custom_hvparams": {"serial_console": False},
}


def test_console_builds_vnc_from_instance_when_ganeti_answers_500_for_kvm(fake, driver):
    fake.add("GET", "/2/instances/kvm-vnc1.nefos.lab/console", CONSOLE_500, 500)
    fake.add("GET", "/2/instances/kvm-vnc1.nefos.lab", KVM_VNC_INSTANCE)
    fake.add("GET", "/2/nodes", [NODE_A1, NODE_A2_OFFLINE])

    console = driver.console("kvm-vnc1.nefos.lab")

    assert (console.kind, console.host, console.port) == ("vnc", "10.77.1.11", 11000)
    assert console.extra["display"] == 5100
    assert [r["path"] for r in fake.requests] == [
        "/2/instances/kvm-vnc1.nefos.lab/console",  # a 500 is not retried
        "/2/instances/kvm-vnc1.nefos.lab",
        "/2/nodes",
    ]


def test_console_reports_the_bind_address_when_kvm_vnc_binds_one_address(fake, driver):
    hvparams = {**KVM_VNC_INSTANCE["hvparams"], "vnc_bind_address": "192.0.2.20"}
    fake.add("GET", "/2/instances/vm1/console", CONSOLE_500, 500)
    fake.add("GET", "/2/instances/vm1", {**KVM_VNC_INSTANCE, "name": "vm1", "hvparams": hvparams})

    console = driver.console("vm1")

    assert (console.kind, console.host, console.port) == ("vnc", "192.0.2.20", 11000)
    assert "/2/nodes" not in [r["path"] for r in fake.requests]


@pytest.mark.parametrize(
    ("changes", "hv_changes"),
    [
        ({"hvparams": {}}, {}),  # fake hypervisor: no kvm parameters
        ({}, {"serial_console": True}),  # Ganeti would answer ssh, so this 500 is something else
        ({}, {"vnc_bind_address": ""}),  # no VNC
        ({}, {"vnc_bind_address": "/var/run/ganeti/vnc"}),  # a socket directory: not a TCP endpoint
        ({}, {"vnc_bind_address": "eth0"}),  # an interface: its address on the node is unknown here
        ({"network_port": None}, {}),
    ],
)
def test_console_raises_the_500_when_the_instance_has_no_kvm_tcp_vnc(fake, driver, changes, hv_changes):
    instance = {**KVM_VNC_INSTANCE, "name": "vm1", **changes}
    if "hvparams" not in changes:
        instance["hvparams"] = {**KVM_VNC_INSTANCE["hvparams"], **hv_changes}
    fake.add("GET", "/2/instances/vm1/console", CONSOLE_500, 500)
    fake.add("GET", "/2/instances/vm1", instance)

    with pytest.raises(GanetiApiError) as raised:
        driver.console("vm1")

    assert raised.value.status == 500 and "Internal Server Error" in str(raised.value)


def test_console_raises_service_unavailable_when_kvm_vnc_instance_is_down(fake, driver):
    fake.add("GET", "/2/instances/vm1/console", CONSOLE_500, 500)
    fake.add(
        "GET", "/2/instances/vm1", {**KVM_VNC_INSTANCE, "name": "vm1", "oper_state": False, "status": "ADMIN_down"}
    )

    with pytest.raises(ServiceUnavailable, match="Instance console unavailable"):
        driver.console("vm1")


def test_console_does_not_fall_back_when_the_error_is_not_a_500(fake, driver):
    fake.add("GET", "/2/instances/vm1/console", {"code": 404, "message": "Instance vm1 not known"}, 404)

    with pytest.raises(NotFound):
        driver.console("vm1")

    assert [r["path"] for r in fake.requests] == ["/2/instances/vm1/console"]


def test_console_raises_service_unavailable_when_instance_down(fake, driver):
    for _ in range(3):
        fake.add("GET", "/2/instances/vm1/console", {"code": 503, "message": "Instance console unavailable"}, 503)
    with pytest.raises(ServiceUnavailable):
        driver.console("vm1")


# -- writes -------------------------------------------------------------------------------------


def test_create_sends_version_1_body_when_nodes_named(fake, driver):
    fake.add("POST", "/2/instances", 42)
    spec = CreateSpec(
        name="vm1.nefos.lab",
        vcpus=2,
        memory_mb=512,
        disk_template="file",
        disks=(DiskSpec(size_mb=1024, name="root"), DiskSpec(size_mb=2048)),
        nics=(NicSpec(mac="aa:00:00:00:00:01", ip="192.0.2.10", network="public"), NicSpec(link="gnt0")),
        os_params={"img_id": "debian"},
        hv_params={"kernel_path": ""},
        primary_node="a1.nefos.lab",
        secondary_node="a2.nefos.lab",
        start=False,
        tags=("nefos:project:p1",),
    )
    assert driver.create(spec) == "42"
    body = fake.requests[0]["body"]
    assert (body["__version__"], body["mode"], body["name"]) == (1, "create", "vm1.nefos.lab")
    assert (body["disk_template"], body["os_type"], body["start"]) == ("file", "noop", False)
    assert body["beparams"] == {"vcpus": 2, "maxmem": 512, "minmem": 512}
    assert body["disks"] == [{"size": 1024, "name": "root"}, {"size": 2048}]
    assert body["nics"] == [{"mac": "aa:00:00:00:00:01", "ip": "192.0.2.10", "network": "public"}, {"link": "gnt0"}]
    assert (body["pnode"], body["snode"]) == ("a1.nefos.lab", "a2.nefos.lab")
    assert body["osparams"] == {"img_id": "debian"} and body["hvparams"] == {"kernel_path": ""}
    assert body["tags"] == ["nefos:project:p1"]
    assert body["name_check"] is False and body["ip_check"] is False
    assert "iallocator" not in body and "hypervisor" not in body


def test_create_leaves_placement_to_ganeti_when_several_nodes(fake, driver):
    fake.add("GET", "/2/nodes", [NODE_A1, {**NODE_A1, "name": "a2.nefos.lab", "role": "C"}])
    fake.add("POST", "/2/instances", 43)
    spec = CreateSpec(name="vm2", vcpus=1, memory_mb=128, disk_template="diskless", disks=(), os="debootstrap+min")
    assert driver.create(spec) == "43"
    body = fake.requests[-1]["body"]
    assert "pnode" not in body and "iallocator" not in body and "snode" not in body
    assert body["os_type"] == "debootstrap+min"
    assert body["nics"] == [{}]


def test_create_names_lone_node_when_cluster_has_one_usable(fake, driver):
    drained = {**NODE_A1, "name": "a2.nefos.lab", "drained": True, "role": "D"}
    fake.add("GET", "/2/nodes", [NODE_A1, drained])
    fake.add("POST", "/2/instances", 44)
    spec = CreateSpec(name="vm3", vcpus=1, memory_mb=128, disk_template="diskless", disks=())
    driver.create(spec)
    assert fake.requests[-1]["body"]["pnode"] == "a1.nefos.lab"


def test_create_sends_hypervisor_when_driver_configured(fake):
    client = RapiClient(fake.url, username="nefos", password=SECRET, retries=1)
    drv = GanetiDriver(client, default_os="image+default", hypervisor="kvm")
    fake.add("POST", "/2/instances", 45)
    drv.create(CreateSpec(name="vm4", vcpus=1, memory_mb=128, disk_template="diskless", disks=(), primary_node="n1"))
    body = fake.requests[0]["body"]
    assert (body["hypervisor"], body["os_type"]) == ("kvm", "image+default")
    drv.close()


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body"),
    [
        (lambda d: d.start("vm1"), "PUT", "/2/instances/vm1/startup", {}, None),
        (lambda d: d.stop("vm1", timeout=30), "PUT", "/2/instances/vm1/shutdown", {}, {"timeout": 30}),
        (lambda d: d.reboot("vm1"), "POST", "/2/instances/vm1/reboot", {"type": ["soft"]}, {}),
        (lambda d: d.reboot("vm1", hard=True), "POST", "/2/instances/vm1/reboot", {"type": ["hard"]}, {}),
        (lambda d: d.destroy("vm1"), "DELETE", "/2/instances/vm1", {}, None),
        (
            lambda d: d.resize("vm1", vcpus=2, memory_mb=1024),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"beparams": {"vcpus": 2, "maxmem": 1024, "minmem": 1024}},
        ),
        (
            lambda d: d.add_disk("vm1", DiskSpec(size_mb=2048, name="data")),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"disks": [["add", -1, {"size": 2048, "name": "data"}]], "hotplug_if_possible": True},
        ),
        (
            lambda d: d.add_disk("vm1", DiskSpec(size_mb=1024, template="plain")),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"disks": [["add", -1, {"size": 1024, "dev_type": "plain"}]], "hotplug_if_possible": True},
        ),
        (
            lambda d: d.remove_disk("vm1", 1),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"disks": [["remove", 1, {}]], "hotplug_if_possible": True},
        ),
        (lambda d: d.grow_disk("vm1", 0, 512), "POST", "/2/instances/vm1/disk/0/grow", {}, {"amount": 512}),
        (
            lambda d: d.add_nic("vm1", NicSpec(mac="aa:00:00:00:00:09", network="public", ip="192.0.2.9")),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {
                "nics": [["add", -1, {"mac": "aa:00:00:00:00:09", "ip": "192.0.2.9", "network": "public"}]],
                "hotplug_if_possible": True,
            },
        ),
        (
            lambda d: d.remove_nic("vm1", 0),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"nics": [["remove", 0, {}]], "hotplug_if_possible": True},
        ),
        (
            lambda d: d.migrate("vm1", target_node="a2"),
            "PUT",
            "/2/instances/vm1/migrate",
            {},
            {"mode": "live", "target_node": "a2"},
        ),
        (lambda d: d.migrate("vm1", live=False), "PUT", "/2/instances/vm1/migrate", {}, {"mode": "non-live"}),
        (
            lambda d: d.failover("vm1", target_node="a2"),
            "PUT",
            "/2/instances/vm1/failover",
            {},
            {"ignore_consistency": False, "target_node": "a2"},
        ),
        (
            lambda d: d.change_disk_template("vm1", "drbd", secondary_node="a2"),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"disk_template": "drbd", "remote_node": "a2"},
        ),
        (
            lambda d: d.change_disk_template("vm1", "plain"),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"disk_template": "plain"},
        ),
        (
            lambda d: d.evacuate_node("a1", mode="primary-only"),
            "POST",
            "/2/nodes/a1/evacuate",
            {},
            {"mode": "primary-only"},
        ),
        (lambda d: d.set_node_drained("a2", True), "PUT", "/2/nodes/a2/role", {}, "drained"),
        (lambda d: d.set_node_drained("a2", False), "PUT", "/2/nodes/a2/role", {}, "regular"),
    ],
)
def test_write_sends_expected_request_when_called(fake, driver, call, method, path, query, body):
    fake.add(method, path, 17)
    assert call(driver) == "17"
    sent = fake.requests[0]
    assert (sent["method"], sent["path"], sent["query"]) == (method, path, query)
    if body is not None:
        assert sent["body"] == body


# -- jobs ---------------------------------------------------------------------------------------


def test_job_maps_recorded_create_job_when_succeeded(fake, driver):
    fake.add("GET", "/2/jobs/4", CREATE_JOB)
    status = driver.job("4")
    assert (status.job_id, status.state, status.finished) == ("4", JobState.SUCCESS, True)
    assert status.operations == ("INSTANCE_CREATE(cap-521ce4.nefos.lab)",)
    assert [e.serial for e in status.log] == [1, 2, 3, 4, 5, 6, 9, 10]
    assert status.log[0].timestamp == pytest.approx(1795775915.567497)
    assert (status.log[0].kind, status.log[0].message) == ("message", "* disk 0, size 1.0G")
    assert status.last_serial == 10
    assert status.received_at == pytest.approx(1795775914.738479)
    assert status.started_at == pytest.approx(1795775915.07888)
    assert status.ended_at == pytest.approx(1795775916.642156)
    assert status.result == [["a1.nefos.lab"]]
    assert status.error == "" and status.progress is None


def test_job_carries_cluster_reason_when_failed(fake, driver):
    fake.add("GET", "/2/jobs/6", FAILED_JOB)
    status = driver.job("6")
    assert status.state == JobState.ERROR
    assert status.error.startswith("OpPrereqError: Instance 'cap-521ce4.nefos.lab' is marked to be up")
    assert status.log == ()


def test_job_sorts_log_across_opcodes_when_several(fake, driver):
    two_ops = {
        **CREATE_JOB,
        "oplog": [[[2, [1, 0], "message", "b"]], [[1, [1, 0], "message", "a"], [3, [2, 0], "remote-import", {"x": 1}]]],
    }
    fake.add("GET", "/2/jobs/4", two_ops)
    log = driver.job("4").log
    assert [(e.serial, e.message) for e in log] == [(1, "a"), (2, "b"), (3, '{"x": 1}')]


def test_job_raises_not_found_when_unknown(fake, driver):
    fake.add("GET", "/2/jobs/99", {"id": 99, "status": None, "ops": None})
    with pytest.raises(NotFound):
        driver.job("99")


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ((" - INFO: Waiting for instance vm1 to sync disks",), None),
        ((" - INFO: - device disk/0: 45.20% done, 2m 10s remaining (estimated)",), 45),
        (
            (
                " - INFO: - device disk/0:  5.00% done, no time estimate",
                " - INFO: - device disk/1: 80.00% done, no time estimate",
                " - INFO: - device disk/0: 60.50% done, no time estimate",
            ),
            60,
        ),
        (
            (
                " - INFO: - device disk/0: 99.10% done, 1s remaining (estimated)",
                " - INFO: Instance vm1's disks are in sync",
            ),
            100,
        ),
        ((" - INFO: Instance vm1's disks are in sync",), None),
        (("* memory transfer progress: 73.25 %",), 73),
    ],
)
def test_progress_parses_sync_lines_when_present(messages, expected):
    assert parse_progress(_log(*messages)) == expected


def test_job_reports_progress_when_migration_running(fake, driver):
    fake.add("GET", "/2/jobs/7", RUNNING_JOB)
    status = driver.job("7")
    assert (status.state, status.progress, status.ended_at) == (JobState.RUNNING, 12, None)


def test_wait_job_returns_current_status_when_nothing_changed(fake, driver):
    previous = JobStatus(job_id="7", state=JobState.RUNNING, log=_log("* memory transfer progress: 12.50 %"))
    fake.add("GET", "/2/jobs/7/wait", None)
    fake.add("GET", "/2/jobs/7", RUNNING_JOB)
    status = driver.wait_job("7", previous=previous, timeout=0)
    assert status is not None and status.state == JobState.RUNNING and status.last_serial == 1
    assert fake.requests[0]["body"] == {
        "fields": ["status"],
        "previous_job_info": ["running"],
        "previous_log_serial": 1,
    }
    assert [r["path"] for r in fake.requests] == ["/2/jobs/7/wait", "/2/jobs/7"]


def test_wait_job_polls_again_when_unchanged_before_timeout(fake, driver):
    previous = JobStatus(job_id="4", state=JobState.RUNNING)
    fake.add("GET", "/2/jobs/4/wait", None)
    fake.add("GET", "/2/jobs/4/wait", {"job_info": ["success"], "log_entries": []})
    fake.add("GET", "/2/jobs/4", CREATE_JOB)
    status = driver.wait_job("4", previous=previous, timeout=30)
    assert status.state == JobState.SUCCESS
    assert [r["path"] for r in fake.requests] == ["/2/jobs/4/wait", "/2/jobs/4/wait", "/2/jobs/4"]
    assert fake.requests[0]["body"]["previous_log_serial"] == 0


def test_wait_job_reads_job_without_polling_when_no_previous(fake, driver):
    fake.add("GET", "/2/jobs/4", CREATE_JOB)
    assert driver.wait_job("4", previous=None, timeout=30).state == JobState.SUCCESS
    assert [r["path"] for r in fake.requests] == ["/2/jobs/4"]


def test_child_job_ids_lists_submitted_jobs_when_evacuation_finished(fake, driver):
    evacuate = {
        **CREATE_JOB,
        "id": 30,
        "summary": ["NODE_EVACUATE(a2.nefos.lab)"],
        "opresult": [{"jobs": [[True, 31], [False, "Instance 'vm9' is locked"], [True, 32]]}],
    }
    fake.add("GET", "/2/jobs/30", evacuate)
    fake.add("GET", "/2/jobs/4", CREATE_JOB)
    assert child_job_ids(driver.job("30")) == ("31", "32")
    assert child_job_ids(driver.job("4")) == ()


def test_job_lists_children_when_evacuation_queued_jobs(fake, driver):
    evacuate = {
        **CREATE_JOB,
        "id": 30,
        "summary": ["NODE_EVACUATE(a2.nefos.lab)"],
        "opresult": [{"jobs": [[True, 31], [False, "Instance 'vm9' is locked"], [True, 32]]}],
    }
    running = {**evacuate, "id": 33, "status": "running", "opresult": [None]}
    fake.add("GET", "/2/jobs/30", evacuate)
    fake.add("GET", "/2/jobs/33", running)
    fake.add("GET", "/2/jobs/4", CREATE_JOB)
    assert driver.job("30").children == ("31", "32")
    assert driver.job("33").children == ()
    assert driver.job("4").children == ()  # a create's opresult is a node list, not jobs


def test_create_sends_spec_hypervisor_over_driver_default_when_given(fake):
    client = RapiClient(fake.url, username="nefos", password=SECRET, retries=1)
    drv = GanetiDriver(client, hypervisor="fake")
    fake.add("POST", "/2/instances", 46)
    fake.add("POST", "/2/instances", 47)
    base = {"vcpus": 1, "memory_mb": 128, "disk_template": "diskless", "disks": (), "primary_node": "n1"}
    drv.create(CreateSpec(name="vm5", hypervisor="kvm", **base))
    drv.create(CreateSpec(name="vm6", **base))
    assert [r["body"]["hypervisor"] for r in fake.requests] == ["kvm", "fake"]
    drv.close()


def test_cancel_job_returns_cluster_verdict_when_asked(fake, driver):
    fake.add("DELETE", "/2/jobs/4", [True, "Job 4 canceled"])
    fake.add("DELETE", "/2/jobs/5", [False, "Job 5 is no longer waiting in the queue"])
    assert driver.cancel_job("4") is True
    assert driver.cancel_job("5") is False


# -- errors and construction --------------------------------------------------------------------


def test_instance_raises_not_found_when_cluster_has_none(fake, driver):
    fake.add("GET", "/2/instances/ghost", {"code": 404, "message": "Instance 'ghost' not known"}, 404)
    with pytest.raises(NotFound) as caught:
        driver.instance("ghost")
    assert "ghost" in caught.value.message


def test_create_raises_bad_request_with_cluster_message_when_rejected(fake, driver):
    message = "Parameter 'OP_INSTANCE_CREATE.disk_template' fails validation"
    fake.add("POST", "/2/instances", {"code": 400, "message": message}, 400)
    spec = CreateSpec(name="vm1", vcpus=1, memory_mb=128, disk_template="bogus", disks=(), primary_node="n1")
    with pytest.raises(BadRequest) as caught:
        driver.create(spec)
    assert caught.value.message == message


def test_queries_raise_cluster_unreachable_when_port_closed():
    client = RapiClient(f"http://127.0.0.1:{_closed_port()}", username="u", password=SECRET, retries=1)
    drv = GanetiDriver(client)
    with pytest.raises(ClusterUnreachable) as caught:
        drv.summary()
    assert SECRET not in str(caught.value) + repr(drv)
    drv.close()


def test_for_cluster_builds_client_from_row_when_given(settings):
    settings.GANETI_DEFAULT_OS = "image+default"
    cluster = Cluster(
        name="cluster-a",
        kind=Cluster.Kind.GANETI,
        endpoint="https://127.0.0.1:5080/",
        username="nefos",
        password=SECRET,
        ca_file="/etc/nefos/cluster-a.pem",
    )
    drv = GanetiDriver.for_cluster(cluster)
    assert (drv.client.url, drv.client.username, drv.client.cluster) == ("https://127.0.0.1:5080", "nefos", "cluster-a")
    assert drv.client.verify == "/etc/nefos/cluster-a.pem"
    assert drv.client.session.auth == ("nefos", SECRET)
    assert drv.default_os == "image+default"
    assert SECRET not in repr(drv)
    drv.close()


def test_for_cluster_verifies_with_system_store_when_no_ca_file():
    cluster = Cluster(name="c", kind=Cluster.Kind.GANETI, endpoint="https://127.0.0.1:5080", password=SECRET)
    drv = GanetiDriver.for_cluster(cluster)
    assert drv.client.verify is True
    drv.close()
