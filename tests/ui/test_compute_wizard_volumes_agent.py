"""The wizard's volumes on the embedded host (a real agent subprocess, killed by PID afterwards): a
server created with one existing and one new volume ends ACTIVE with both attached, and the agent's
instance holds both disks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend_ganeti.models import Instance
from backend_ganeti.services.clusters import refresh_cluster
from backend_ganeti.services.embedded import ensure_embedded_cluster
from compute.models import PendingVolumeAttachment, Server
from compute.volume.models import Volume
from compute.volume.services.types import default_type
from compute.volume.services.volumes import VolumeSpec, create_volume
from tests.backend_ganeti.libvirt_agent import AgentProcess, running_agent

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent, killed by PID afterwards."""
    with running_agent(build_delay=0.05, op_delay=0.02) as process:
        yield process


def test_wizard_volumes_end_attached_on_embedded_host_when_server_is_active(
    agent, carol, carol_project, carol_client, send, flavors, image, network, inline_jobs
):
    refresh_cluster(ensure_embedded_cluster(socket_path=agent.socket))
    existing = create_volume(carol_project, VolumeSpec(size=1, volume_type=default_type(), name="data"), actor=carol)
    data = {
        "name": "hosted",
        "count": 1,
        "image": image,
        "flavor": "1",
        "network": str(network.pk),
        "vol-attach": [str(existing.pk)],
        "vol-size_0": "1",
        "vol-name_0": "fresh",
    }
    response = send(carol_client.post, "/cloud/servers/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    server = Server.objects.get(project=carol_project, name="hosted")
    assert server.vm_state == "active", (server.vm_state, server.fault_message)
    volumes = list(Volume.objects.filter(project=carol_project).order_by("name"))
    assert [(v.name, v.status, v.server_id) for v in volumes] == [
        ("data", "in-use", server.pk),
        ("fresh", "in-use", server.pk),
    ]
    assert not PendingVolumeAttachment.objects.exists()
    instance = Instance.objects.get(pk=server.instance_id)
    disks = [d.name for d in agent.driver().instance(instance.name).disks]
    assert {str(v.pk) for v in volumes} <= set(disks)
