"""The real thing: the `openstack` CLI against a live portal whose cluster is the embedded libvirt host.

The host agent runs as a real subprocess (`manage.py libvirt_host run`, short build delays) and is
registered as the `embedded` cluster. Backend jobs run inline as they are enqueued (the live test
database lives in this process, so no Celery worker process can share it): the job watcher submits
to the agent and follows it with the long-poll, and its events move the servers as in production.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_ganeti import tasks
from backend_ganeti.services import jobs
from backend_ganeti.services.clusters import refresh_cluster
from backend_ganeti.services.embedded import ensure_embedded_cluster
from compute.image.services.seed import SEED_NAME
from compute.network.services.networks import NetworkSpec, create_network
from compute.network.services.subnets import SubnetSpec, create_subnet
from tests.backend_ganeti.libvirt_agent import AgentProcess, running_agent
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent (two simulated nodes), killed by PID afterwards."""
    with running_agent(build_delay=0.3, op_delay=0.1) as process:
        yield process


@pytest.fixture
def member_cloud(portal, clouds, agent, monkeypatch) -> str:
    """A member of a fresh project with a private network; bootstrap (the `portal` fixture) seeded the
    flavors, the public image, the public network, the volume types and the whole catalog (Cinder
    included: `quota show` and `limits show` ask /volume too)."""
    monkeypatch.setattr(tasks.run_job, "delay", jobs.run_job)
    refresh_cluster(ensure_embedded_cluster(socket_path=agent.socket))
    project = ProjectFactory(name="nova-cli")
    user = UserFactory(name="nova-cli-user")
    assign(user, project, "member", "reader")
    network = create_network(project, NetworkSpec(name="private"), actor=user)
    create_subnet(project, network, SubnetSpec(cidr="10.20.0.0/24"), actor=user)
    return clouds.add_user("member", user.name, PASSWORD, project.name)


def wait_status(cli, name: str, wanted: str, timeout: float = 30.0) -> dict:
    """Poll `server show` until the server has status `wanted`."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli("server", "show", name)
        if shown["status"] == wanted or time.monotonic() > deadline:
            assert shown["status"] == wanted, shown
            return shown
        time.sleep(0.2)


def test_openstack_cli_runs_server_lifecycle_on_embedded_host(openstack, member_cloud, agent):
    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    flavors = [f["Name"] for f in cli("flavor", "list")]
    assert flavors[:2] == ["m1.tiny", "m1.small"]
    created = cli(
        "server", "create", "--flavor", "m1.tiny", "--image", SEED_NAME, "--network", "private", "--wait", "vm1"
    )
    assert created["status"] == "ACTIVE" and "m1.tiny" in str(created["flavor"])
    assert created["addresses"]["private"][0].startswith("10.20.0.")
    on_host = agent.driver().instances()
    assert [i.memory_mb for i in on_host] == [512] and on_host[0].power.value == "running"

    openstack("server", "stop", "vm1", cloud=member_cloud)
    wait_status(cli, "vm1", "SHUTOFF")
    openstack("server", "start", "vm1", cloud=member_cloud)
    wait_status(cli, "vm1", "ACTIVE")
    openstack("server", "reboot", "--wait", "vm1", cloud=member_cloud)
    openstack("server", "reboot", "--hard", "--wait", "vm1", cloud=member_cloud)
    wait_status(cli, "vm1", "ACTIVE")

    openstack("server", "resize", "--flavor", "m1.small", "--wait", "vm1", cloud=member_cloud)
    assert cli("server", "show", "vm1")["status"] == "VERIFY_RESIZE"
    openstack("server", "resize", "confirm", "vm1", cloud=member_cloud)
    resized = wait_status(cli, "vm1", "ACTIVE")
    assert "m1.small" in str(resized["flavor"])
    assert agent.driver().instances()[0].memory_mb == 2048

    console = cli("console", "url", "show", "vm1")
    assert "/compute/console?token=" in console["url"]
    assert [s["Name"] for s in cli("server", "list")] == ["vm1"]

    quota = {row["Resource"]: row["Limit"] for row in cli("quota", "show")}
    assert (quota["instances"], quota["cores"], quota["ram"]) == (10, 20, 51200)
    # One `quota show` covers Nova, Cinder and Neutron (the Cinder catalog entries are live now).
    assert (quota["volumes"], quota["gigabytes"]) == (10, 1000)
    assert quota["networks"] >= 1 and any("floating" in name and limit >= 1 for name, limit in quota.items())
    limits = {row["Name"]: row["Value"] for row in cli("limits", "show", "--absolute")}
    assert (limits["instances_used"], limits["total_ram_used"]) == (1, 2048)

    openstack("server", "delete", "--wait", "vm1", cloud=member_cloud)
    assert cli("server", "list") == []
    assert agent.driver().instances() == []
    limits = {row["Name"]: row["Value"] for row in cli("limits", "show", "--absolute")}
    assert (limits["instances_used"], limits["total_cores_used"]) == (0, 0)


def test_openstack_cli_manages_keypairs_and_shows_zones(openstack, member_cloud):
    created = openstack("keypair", "create", "cli-key", cloud=member_cloud)
    assert "PRIVATE KEY" in created.stdout
    shown = openstack("keypair", "show", "cli-key", "-f", "json", cloud=member_cloud).json()
    assert shown["name"] == "cli-key" and shown["fingerprint"]
    zones = openstack("availability", "zone", "list", "--compute", "-f", "json", cloud=member_cloud).json()
    assert [z["Zone Name"] for z in zones] == ["embedded"]
    openstack("keypair", "delete", "cli-key", cloud=member_cloud)
    assert openstack("keypair", "list", "-f", "json", cloud=member_cloud).json() == []


def wait_volume(cli, name: str, wanted: str, timeout: float = 30.0) -> dict:
    """Poll `volume show` until the volume has status `wanted`."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli("volume", "show", name)
        if shown["status"] == wanted or time.monotonic() > deadline:
            assert shown["status"] == wanted, shown
            return shown
        time.sleep(0.2)


@pytest.fixture
def disk_file() -> Iterator[Path]:
    """A small raw disk image file in a private temp dir, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="nefos-clidisk-") as path:
        target = Path(path) / "disk.raw"
        target.write_bytes(os.urandom(256 * 1024))
        yield target


def test_openstack_cli_boots_uploaded_image_on_own_port_with_floating_ip(openstack, member_cloud, agent, disk_file):
    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    image = cli(
        "image", "create", "--file", str(disk_file), "--disk-format", "raw", "--container-format", "bare", "my-disk"
    )
    assert image["status"] == "active" and image["size"] == 256 * 1024
    cli("network", "create", "net2")
    cli("subnet", "create", "--network", "net2", "--subnet-range", "10.40.0.0/24", "sub2")
    port = cli("port", "create", "--network", "net2", "--fixed-ip", "ip-address=10.40.0.10", "p1")
    created = cli("server", "create", "--flavor", "m1.tiny", "--image", "my-disk", "--port", "p1", "--wait", "vm2")
    assert created["status"] == "ACTIVE" and created["image"].startswith("my-disk")
    assert created["addresses"] == {"net2": ["10.40.0.10"]}
    assert cli("port", "show", "p1")["device_id"] == created["id"]
    assert agent.driver().instances()[0].power.value == "running"

    fip = cli("floating", "ip", "create", "public")
    openstack("server", "add", "floating", "ip", "vm2", fip["floating_ip_address"], cloud=member_cloud)
    shown = cli("floating", "ip", "show", fip["id"])
    assert (shown["port_id"], shown["fixed_ip_address"]) == (port["id"], "10.40.0.10")
    assert fip["floating_ip_address"] in str(cli("server", "show", "vm2")["addresses"])
    openstack("server", "remove", "floating", "ip", "vm2", fip["floating_ip_address"], cloud=member_cloud)
    assert cli("floating", "ip", "show", fip["id"])["port_id"] is None

    openstack("server", "delete", "--wait", "vm2", cloud=member_cloud)
    assert cli("server", "list") == [] and agent.driver().instances() == []
    assert cli("port", "show", "p1")["device_id"] == ""  # a port the user made outlives the server
    openstack("floating", "ip", "delete", fip["id"], cloud=member_cloud)
    openstack("port", "delete", "p1", cloud=member_cloud)
    openstack("subnet", "delete", "sub2", cloud=member_cloud)
    openstack("network", "delete", "net2", cloud=member_cloud)
    openstack("image", "delete", "my-disk", cloud=member_cloud)


def test_openstack_cli_server_delete_keeps_attached_volume(openstack, member_cloud, agent):
    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    cli("server", "create", "--flavor", "m1.tiny", "--image", SEED_NAME, "--network", "private", "--wait", "vm3")
    volume = cli("volume", "create", "--size", "1", "keep")
    openstack("server", "add", "volume", "vm3", "keep", cloud=member_cloud)
    wait_volume(cli, "keep", "in-use")
    assert volume["id"] in [d.name for d in agent.driver().instances()[0].disks]
    openstack("server", "delete", "--wait", "vm3", cloud=member_cloud)
    assert cli("server", "list") == [] and agent.driver().instances() == []
    kept = wait_volume(cli, "keep", "available")
    assert kept["attachments"] == []
    assert volume["id"] in (agent.state_dir / "detached-disks.json").read_text()
    quota = {row["Resource"]: row["In Use"] for row in cli("quota", "show", "--usage")}
    assert (quota["volumes"], quota["gigabytes"], quota["instances"]) == (1, 1, 0)
    openstack("volume", "delete", "keep", cloud=member_cloud)
    deadline = time.monotonic() + 30
    while cli("volume", "list") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cli("volume", "list") == []


def test_openstack_cli_creates_a_server_image_with_the_disk_bytes_on_embedded_host(
    openstack, member_cloud, agent, monkeypatch
):
    from compute import tasks as compute_tasks
    from compute.services import snapshots

    # The snapshot worker runs inline on commit, as the backend jobs do in this live server.
    monkeypatch.setattr(compute_tasks.snapshot_server, "delay", snapshots.run_snapshot)

    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    cli("server", "create", "--flavor", "m1.tiny", "--image", SEED_NAME, "--network", "private", "--wait", "vm-snap")
    [instance] = agent.driver().instances()
    marker = b"written before the snapshot\n"
    agent.driver().write_disk(instance.name, 0, [marker], size=len(marker))

    created = cli("server", "image", "create", "--name", "vm-snap-image", "--wait", "vm-snap")
    image = cli("image", "show", created["id"])
    assert (image["status"], image["size"], image["disk_format"]) == ("active", 1 << 30, "raw")
    assert image["properties"]["image_type"] == "snapshot"
    md5 = hashlib.md5()
    data = agent.driver().read_disk(instance.name, 0)
    for piece in data.chunks:
        md5.update(piece)
    assert image["checksum"] == md5.hexdigest()
    assert cli("server", "show", "vm-snap")["status"] == "ACTIVE"

    openstack("image", "delete", created["id"], cloud=member_cloud)
    openstack("server", "delete", "--wait", "vm-snap", cloud=member_cloud)
