"""createImage (Nova snapshots) on the embedded host: a real agent subprocess holds the server's
disk (a sparse file), the snapshot worker copies it into a Glance image through the object store;
clusters that cannot read disks (the fake driver, like Ganeti) answer 409; bad input never 500s."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend_ganeti.models import Instance
from compute import tasks
from compute.image.models import Image
from compute.models import Server
from compute.services import snapshots
from identity.services import quotas
from objectstore.services import for_images
from tests.backend_ganeti.libvirt_agent import AgentProcess, running_agent
from tests.compute.helpers import fault

GIB = 1024**3
MARKER = b"NEFOS SNAPSHOT TEST MARKER\n" * 100


@pytest.fixture(scope="module")
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent for the module, killed by PID afterwards."""
    with running_agent(build_delay=0.02, op_delay=0.01) as process:
        yield process


@pytest.fixture
def snapshot_tasks(monkeypatch) -> list[tuple[str, str]]:
    """Snapshot tasks recorded instead of sent to a broker (run them with `run_snapshots`)."""
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.snapshot_server, "delay", lambda *args: sent.append(args))
    return sent


@pytest.fixture
def run_snapshots(snapshot_tasks, django_capture_on_commit_callbacks) -> Callable[[], list[str]]:
    def run() -> list[str]:
        results = []
        while snapshot_tasks:
            server_id, image_id = snapshot_tasks.pop(0)
            with django_capture_on_commit_callbacks(execute=True):
                results.append(snapshots.run_snapshot(server_id, image_id))
        return results

    return run


def instance_name(server_id: str) -> str:
    return Instance.objects.get(pk=Server.objects.get(pk=server_id).instance_id).name


def glance(nova, method: str, path: str) -> Any:
    return getattr(nova.client, method)(f"/image/v2{path}", HTTP_X_AUTH_TOKEN=nova.token)


def sha256_of(chunks) -> str:
    digest = hashlib.sha256()
    for piece in chunks:
        digest.update(piece)
    return digest.hexdigest()


def test_create_image_stores_the_disk_bytes_as_an_active_snapshot_when_on_embedded_host(
    nova, on_host, agent, image, run_snapshots
):
    name = instance_name(on_host["id"])
    agent.driver().write_disk(name, 0, [MARKER], size=len(MARKER))

    response = nova.action(
        on_host["id"], "createImage", {"name": "snap-1", "metadata": {"purpose": "test"}}, version="2.1"
    )
    assert response.status_code == 202, response.content
    image_id = response["Location"].rsplit("/", 1)[-1]
    assert response["Location"].endswith(f"/image/v2/images/{image_id}")
    assert glance(nova, "get", f"/images/{image_id}").json()["status"] == "queued"
    assert nova.show(on_host["id"])["OS-EXT-STS:task_state"] == "image_snapshot"

    assert run_snapshots() == ["active"]
    shown = glance(nova, "get", f"/images/{image_id}").json()
    assert (shown["status"], shown["disk_format"], shown["container_format"]) == ("active", "raw", "bare")
    assert (shown["size"], shown["min_disk"], shown["visibility"]) == (GIB, 1, "private")
    assert shown["owner"] == str(nova.project.pk)
    assert (shown["image_type"], shown["instance_uuid"], shown["base_image_ref"]) == ("snapshot", on_host["id"], image)
    assert (shown["purpose"], shown["os_distro"]) == ("test", "cirros")  # the request's and the base image's

    download = glance(nova, "get", f"/images/{image_id}/file")
    assert download.status_code == 200
    md5, sha512, head, size = hashlib.md5(), hashlib.sha512(), b"", 0
    sha256 = hashlib.sha256()
    for piece in download.streaming_content:
        md5.update(piece)
        sha512.update(piece)
        sha256.update(piece)
        head += piece[: max(0, len(MARKER) - len(head))]
        size += len(piece)
    assert (size, md5.hexdigest(), sha512.hexdigest()) == (GIB, shown["checksum"], shown["os_hash_value"])
    assert head == MARKER
    assert sha256.hexdigest() == sha256_of(agent.driver().read_disk(name, 0).chunks)

    row = Image.objects.get(pk=image_id)
    assert for_images.object_etag(nova.project, row.data_container, row.data_object) == shown["checksum"]
    after = nova.show(on_host["id"])
    assert (after["status"], after["OS-EXT-STS:task_state"]) == ("ACTIVE", None)


def test_create_image_answers_image_id_from_2_45_and_refuses_a_second_while_one_runs(
    nova, on_host, snapshot_tasks, run_snapshots
):
    response = nova.action(on_host["id"], "createImage", {"name": "snap-2"}, version="2.45")
    assert response.status_code == 202 and "Location" not in response
    image_id = response.json()["image_id"]
    assert len(snapshot_tasks) == 1

    again = nova.action(on_host["id"], "createImage", {"name": "snap-3"}, version="2.45")
    assert again.status_code == 409 and "task_state image_snapshot" in fault(again)["message"]
    assert nova.action(on_host["id"], "os-stop").status_code == 409

    assert run_snapshots() == ["active"]
    assert Image.objects.get(pk=image_id).status == "active"
    assert Image.objects.filter(name="snap-3").count() == 0


def test_create_image_works_when_server_is_stopped(nova, on_host, run_snapshots):
    assert nova.action(on_host["id"], "os-stop").status_code == 202
    assert nova.show(on_host["id"])["status"] == "SHUTOFF"
    response = nova.action(on_host["id"], "createImage", {"name": "snap-off"}, version="2.45")
    assert response.status_code == 202, response.content
    assert run_snapshots() == ["active"]
    assert nova.show(on_host["id"])["status"] == "SHUTOFF"


def test_snapshot_is_deleted_and_the_task_cleared_when_the_disk_cannot_be_read(nova, on_host, agent, run_snapshots):
    response = nova.action(on_host["id"], "createImage", {"name": "snap-lost"}, version="2.45")
    image_id = response.json()["image_id"]
    agent.driver().destroy(instance_name(on_host["id"]))  # gone behind the portal's back
    deadline = time.monotonic() + 10
    while instance_name(on_host["id"]) in [i.name for i in agent.driver().instances()]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [result] = run_snapshots()
    assert result.startswith("failed:") and "does not exist" in result
    assert not Image.objects.filter(pk=image_id).exists()
    assert glance(nova, "get", f"/images/{image_id}").status_code == 404
    assert nova.show(on_host["id"])["OS-EXT-STS:task_state"] is None


@pytest.mark.parametrize(
    "args",
    [
        {},
        None,
        {"name": ""},
        {"name": 5},
        {"name": "x" * 256},
        {"name": "ok", "metadata": []},
        {"name": "ok", "metadata": {"k": 1}},
        {"name": "ok", "other": 1},
    ],
)
def test_create_image_is_400_when_arguments_are_bad(nova, on_host, snapshot_tasks, args):
    response = nova.action(on_host["id"], "createImage", args)
    assert response.status_code == 400, response.content
    assert not snapshot_tasks and Image.objects.filter(properties__name="instance_uuid").count() == 0


def test_create_image_never_500s_when_metadata_names_a_glance_reserved_property(nova, on_host, snapshot_tasks):
    response = nova.action(on_host["id"], "createImage", {"name": "ok", "metadata": {"status": "active"}})
    assert 400 <= response.status_code < 500, response.content
    assert not snapshot_tasks
    assert nova.show(on_host["id"])["OS-EXT-STS:task_state"] is None


def test_create_image_is_404_when_server_belongs_to_another_project(other_nova, on_host, snapshot_tasks):
    response = other_nova.action(on_host["id"], "createImage", {"name": "steal"})
    assert response.status_code == 404 and not snapshot_tasks


def test_create_image_is_409_with_the_reason_when_cluster_cannot_read_disks(nova, booted, snapshot_tasks):
    response = nova.action(booted["id"], "createImage", {"name": "snap"})
    assert response.status_code == 409
    assert "cannot read or write a disk's bytes" in fault(response)["message"]
    assert not snapshot_tasks and not Image.objects.filter(name="snap").exists()
    assert nova.show(booted["id"])["OS-EXT-STS:task_state"] is None


def stored_bytes(project) -> int:
    return next(r for r in quotas.usage(project) if r["resource"] == "objectstore.bytes")["usage"]


def test_snapshot_is_charged_to_the_project_and_deleted_when_over_its_storage_quota(nova, on_host, run_snapshots):
    before = stored_bytes(nova.project)
    response = nova.action(on_host["id"], "createImage", {"name": "snap-charged"}, version="2.45")
    assert run_snapshots() == ["active"]
    assert stored_bytes(nova.project) == before + GIB

    quotas.set_limit(nova.project, "objectstore.bytes", before + GIB + 1000, actor=None)
    response = nova.action(on_host["id"], "createImage", {"name": "snap-over"}, version="2.45")
    image_id = response.json()["image_id"]
    [result] = run_snapshots()
    assert result.startswith("failed:") and "quota" in result
    assert not Image.objects.filter(pk=image_id).exists()
    assert stored_bytes(nova.project) == before + GIB
    assert nova.show(on_host["id"])["OS-EXT-STS:task_state"] is None
