"""The real thing: the `openstack` CLI (openstackclient 10.5) managing volumes on a live portal whose
cluster is the embedded libvirt host (a real agent subprocess), attaching them to a real server.

Backend jobs run inline as they are enqueued (see tests/compute/test_real_clients.py), so the
volume's status follows the agent's jobs through the same events as in production.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

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
pytest_plugins = ["tests.live"]


@pytest.fixture
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent (two simulated nodes), killed by PID afterwards."""
    with running_agent(build_delay=0.3, op_delay=0.1) as process:
        yield process


@pytest.fixture
def member_cloud(portal, clouds, agent, monkeypatch) -> str:
    """A member of a fresh project with a private network (bootstrap seeded flavors, image, volume types)."""
    monkeypatch.setattr(tasks.run_job, "delay", jobs.run_job)
    refresh_cluster(ensure_embedded_cluster(socket_path=agent.socket))
    project = ProjectFactory(name="cinder-cli")
    user = UserFactory(name="cinder-cli-user")
    assign(user, project, "member", "reader")
    network = create_network(project, NetworkSpec(name="private"), actor=user)
    create_subnet(project, network, SubnetSpec(cidr="10.30.0.0/24"), actor=user)
    return clouds.add_user("member", user.name, PASSWORD, project.name)


def wait_volume(cli: Callable[..., dict], name: str, wanted: str, timeout: float = 30.0) -> dict:
    """Poll `volume show` until the volume has status `wanted`."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli("volume", "show", name)
        if shown["status"] == wanted or time.monotonic() > deadline:
            assert shown["status"] == wanted, shown
            return shown
        time.sleep(0.2)


def test_openstack_cli_manages_and_attaches_volumes_on_embedded_host(openstack, member_cloud, agent):
    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    assert {t["Name"] for t in cli("volume", "type", "list")} >= {"file"}
    created = cli("volume", "create", "--size", "1", "v1")
    assert (created["status"], created["size"], created["name"]) == ("available", 1, "v1")
    openstack("volume", "set", "--name", "data", "--property", "role=db", "v1", cloud=member_cloud)
    openstack("volume", "set", "--size", "2", "data", cloud=member_cloud)
    shown = cli("volume", "show", "data")
    assert (shown["size"], shown["type"]) == (2, "file") and "role" in str(shown["properties"])
    assert [v["Name"] for v in cli("volume", "list")] == ["data"]

    cli("server", "create", "--flavor", "m1.tiny", "--image", SEED_NAME, "--network", "private", "--wait", "vm1")
    openstack("server", "add", "volume", "vm1", "data", cloud=member_cloud)
    attached = wait_volume(cli, "data", "in-use")
    assert "vm1" in str(attached["attachments"]) or attached["attachments"]
    server = cli("server", "show", "vm1")
    assert shown["id"] in str(server["volumes_attached"])
    on_host = agent.driver().instances()[0]
    assert [d.name for d in on_host.disks][-1] == shown["id"]

    openstack("server", "remove", "volume", "vm1", "data", cloud=member_cloud)
    wait_volume(cli, "data", "available")
    assert shown["id"] not in [d.name for d in agent.driver().instances()[0].disks]

    quota = {row["Resource"]: row["Limit"] for row in cli("quota", "show")}
    assert (quota["volumes"], quota["gigabytes"]) == (10, 1000)
    limits = {row["Name"]: row["Value"] for row in cli("limits", "show", "--absolute")}
    assert (limits["total_volumes_used"], limits["total_gigabytes_used"]) == (1, 2), limits

    from_image = cli("volume", "create", "--size", "1", "--image", SEED_NAME, "boot")
    assert from_image["bootable"] in ("true", True) and from_image["status"] == "available"
    assert SEED_NAME in str(cli("volume", "show", "boot")["volume_image_metadata"])
    refused = openstack("volume", "snapshot", "create", "--volume", "boot", "snap", cloud=member_cloud, check=False)
    assert refused.returncode != 0 and "snapshot" in refused.stderr
    openstack("volume", "delete", "boot", cloud=member_cloud)

    openstack("volume", "delete", "data", cloud=member_cloud)
    deadline = time.monotonic() + 30
    while cli("volume", "list") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cli("volume", "list") == []
    limits = {row["Name"]: row["Value"] for row in cli("limits", "show", "--absolute")}
    assert (limits["total_volumes_used"], limits["total_gigabytes_used"]) == (0, 0)
