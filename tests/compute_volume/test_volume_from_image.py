"""Volumes created from an image get the image's bytes on their disk: a real embedded-host agent
holds the disk (a sparse file) and the fill task writes the image through `write_disk` before the
volume is `in-use`; clusters that cannot write disks (the fake driver, like Ganeti) refuse the
attach with a 400 before any job; a failed fill leaves the volume in `error` with the reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend_ganeti.models import Instance, Job
from compute.image.models import Image
from compute.image.services.seed import seed_content
from compute.models import Server
from compute.volume import tasks
from compute.volume.models import Volume
from compute.volume.services import image_fill
from objectstore.services import for_images
from tests.backend_ganeti.libvirt_agent import AgentProcess, running_agent

GIB = 1024**3


@pytest.fixture(scope="module")
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent for the module, killed by PID afterwards."""
    with running_agent(build_delay=0.02, op_delay=0.01) as process:
        yield process


@pytest.fixture
def fill_tasks(monkeypatch) -> list[str]:
    """Fill tasks recorded instead of sent to a broker (run them with `run_fills`)."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.fill_volume, "delay", sent.append)
    return sent


@pytest.fixture
def run_fills(fill_tasks, django_capture_on_commit_callbacks) -> Callable[[], list[str]]:
    def run() -> list[str]:
        results = []
        while fill_tasks:
            volume_id = fill_tasks.pop(0)
            with django_capture_on_commit_callbacks(execute=True):
                results.append(image_fill.fill_volume(volume_id))
        return results

    return run


def attach(nova, server_id: str, volume_id: str) -> Any:
    return nova.post(f"/servers/{server_id}/os-volume_attachments", {"volumeAttachment": {"volumeId": volume_id}})


def instance_name(server_id: str) -> str:
    return Instance.objects.get(pk=Server.objects.get(pk=server_id).instance_id).name


def test_volume_from_image_holds_the_image_bytes_when_first_attached_on_embedded_host(
    nova, cinder, on_host, agent, image, fill_tasks, run_fills
):
    volume = cinder.create(1, imageRef=image)
    assert attach(nova, on_host["id"], volume["id"]).status_code == 200
    assert fill_tasks == [volume["id"]]
    assert cinder.show(volume["id"])["status"] == "attaching"  # the disk exists, still blank

    assert run_fills() == ["in-use"]
    shown = cinder.show(volume["id"])
    assert (shown["status"], shown["attachments"][0]["server_id"]) == ("in-use", on_host["id"])
    data = agent.driver().read_disk(instance_name(on_host["id"]), volume["id"])
    assert data.size == GIB
    content = seed_content()
    head, rest = b"", hashlib.sha256()
    for piece in data.chunks:
        take = piece[: max(0, len(content) - len(head))]
        head += take
        rest.update(piece[len(take) :])
    assert head == content
    assert rest.hexdigest() == hashlib.sha256(b"\0" * (GIB - len(content))).hexdigest()

    # Detach and re-attach: the data is kept and not written again.
    assert nova.delete(f"/servers/{on_host['id']}/os-volume_attachments/{volume['id']}").status_code == 202
    assert cinder.show(volume["id"])["status"] == "available"
    assert attach(nova, on_host["id"], volume["id"]).status_code == 200
    assert not fill_tasks and cinder.show(volume["id"])["status"] == "in-use"
    again = agent.driver().read_disk(instance_name(on_host["id"]), volume["id"])
    assert next(again.chunks)[: len(content)] == content
    again.chunks.close()


def test_blank_volume_is_in_use_at_once_and_stays_blank_when_attached(nova, cinder, on_host, agent, fill_tasks):
    volume = cinder.create(1)
    assert attach(nova, on_host["id"], volume["id"]).status_code == 200
    assert not fill_tasks and cinder.show(volume["id"])["status"] == "in-use"
    first = next(agent.driver().read_disk(instance_name(on_host["id"]), volume["id"]).chunks)
    assert first == b"\0" * len(first)


def test_volume_goes_to_error_with_the_reason_when_the_image_data_is_gone(
    nova, cinder, on_host, agent, image, fill_tasks, run_fills, admin_project
):
    volume = cinder.create(1, imageRef=image)
    assert attach(nova, on_host["id"], volume["id"]).status_code == 200
    row = Image.objects.get(pk=image)
    assert for_images.delete_object(admin_project, row.data_container, row.data_object, actor=None)
    assert run_fills() == ["error"]
    shown = cinder.show(volume["id"])
    assert (shown["status"], shown["attachments"]) == ("error", [])
    fault = Volume.objects.get(pk=volume["id"]).fault
    assert f"image {image} could not be written" in fault and "has no data" in fault
    # The half-written disk left the server (detached, kept by the host), and deleting the volume removes it.
    assert volume["id"] not in [d.name for d in agent.driver().instance(instance_name(on_host["id"])).disks]
    assert volume["id"] in json.loads((agent.state_dir / "detached-disks.json").read_text())
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    assert not Volume.objects.filter(pk=volume["id"]).exists()
    assert volume["id"] not in json.loads((agent.state_dir / "detached-disks.json").read_text())


def test_attach_is_400_before_any_job_when_the_image_needs_a_conversion(nova, cinder, on_host, image, fill_tasks):
    volume = cinder.create(1, imageRef=image)
    Image.objects.filter(pk=image).update(disk_format="qcow2")
    jobs_before = Job.objects.count()
    response = attach(nova, on_host["id"], volume["id"])
    assert response.status_code == 400 and "qcow2" in response.json()["badRequest"]["message"]
    assert Job.objects.count() == jobs_before and cinder.show(volume["id"])["status"] == "available"


def test_attach_is_400_before_any_job_when_cluster_cannot_write_disks(nova, cinder, booted, image, fill_tasks):
    volume = cinder.create(1, imageRef=image)
    jobs_before = Job.objects.count()
    response = attach(nova, booted["id"], volume["id"])
    assert response.status_code == 400
    assert "cannot write a disk's bytes" in response.json()["badRequest"]["message"]
    assert Job.objects.count() == jobs_before and not fill_tasks
    assert cinder.show(volume["id"])["status"] == "available"
    blank = cinder.create(1)
    assert attach(nova, booted["id"], blank["id"]).status_code == 200  # blank volumes still attach there
