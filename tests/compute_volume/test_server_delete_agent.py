"""Deleting a server with a volume attached, on the embedded host (a real agent subprocess): the
volume is detached before the destroy, ends `available`, and the agent still holds its disk."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from backend_ganeti.models import Instance, Job
from compute.models import Server
from tests.backend_ganeti.libvirt_agent import AgentProcess, running_agent


@pytest.fixture
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent, killed by PID afterwards."""
    with running_agent(build_delay=0.05, op_delay=0.02) as process:
        yield process


def test_server_deletion_keeps_volume_disk_on_embedded_host_when_attached(nova, cinder, on_host, agent):
    volume = cinder.create(1)
    response = nova.post(
        f"/servers/{on_host['id']}/os-volume_attachments", {"volumeAttachment": {"volumeId": volume["id"]}}
    )
    assert response.status_code == 200, response.content
    assert cinder.show(volume["id"])["status"] == "in-use"
    instance = Instance.objects.get(pk=Server.objects.get(pk=on_host["id"]).instance_id)
    assert volume["id"] in [d.name for d in agent.driver().instance(instance.name).disks]

    assert nova.delete(f"/servers/{on_host['id']}").status_code == 204
    assert nova.get(f"/servers/{on_host['id']}").status_code == 404
    assert instance.name not in [i.name for i in agent.driver().instances()]
    shown = cinder.show(volume["id"])
    assert (shown["status"], shown["attachments"]) == ("available", [])
    kept = json.loads((agent.state_dir / "detached-disks.json").read_text())
    assert volume["id"] in kept and kept[volume["id"]]["size_mb"] == 1024
    operations = list(Job.objects.filter(instance=instance).order_by("pk").values_list("operation", flat=True))
    assert operations[-2:] == ["detach_disk", "destroy"]

    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202  # no carrier left: the row goes
