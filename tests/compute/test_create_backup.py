"""createBackup on the embedded host: a real agent subprocess holds the server's disk, the backup
worker copies it into a Glance image (image_type=backup) and then rotates the server's older
backups of the same type out through Glance's delete; bad input is a 400, never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from compute import tasks
from compute.image.models import Image
from compute.services import snapshots
from tests.backend_ganeti.libvirt_agent import AgentProcess, running_agent
from tests.compute.helpers import fault
from tests.compute.test_images_proxy import glance_call, make_image

GIB = 1024**3


@pytest.fixture(scope="module")
def agent() -> Iterator[AgentProcess]:
    """A real embedded host agent for the module, killed by PID afterwards."""
    with running_agent(build_delay=0.02, op_delay=0.01) as process:
        yield process


@pytest.fixture
def backup_tasks(monkeypatch) -> list[tuple[Any, ...]]:
    """Backup tasks recorded instead of sent to a broker (run them with `run_backups`)."""
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.backup_server, "delay", lambda *args: sent.append(args))
    monkeypatch.setattr(tasks.snapshot_server, "delay", lambda *args: sent.append(("snapshot", *args)))
    return sent


@pytest.fixture
def run_backups(backup_tasks, django_capture_on_commit_callbacks) -> Callable[[], list[str]]:
    def run() -> list[str]:
        results = []
        while backup_tasks:
            args = backup_tasks.pop(0)
            assert args[0] != "snapshot", args
            with django_capture_on_commit_callbacks(execute=True):
                results.append(snapshots.run_backup(*args))
        return results

    return run


def old_backup(nova, server_id: str, backup_type: str, name: str) -> str:
    """An earlier backup of the server (made through Glance with a backup's properties)."""
    return make_image(nova, name=name, image_type="backup", backup_type=backup_type, instance_uuid=server_id)


def backup_args(**over: Any) -> dict[str, Any]:
    return {"name": "bk", "backup_type": "daily", "rotation": 2, **over}


def test_create_backup_copies_the_disk_and_keeps_the_newest_rotation_backups_when_worker_finishes(
    nova, on_host, run_backups, image
):
    server_id = on_host["id"]
    older = [old_backup(nova, server_id, "daily", f"old-{n}") for n in range(3)]
    weekly = old_backup(nova, server_id, "weekly", "weekly-0")
    other_server = old_backup(nova, "7c0a0f8e-0000-4000-8000-0000000000aa", "daily", "elsewhere")

    response = nova.action(
        server_id, "createBackup", backup_args(name="bk-new", metadata={"purpose": "nightly"}), version="2.45"
    )
    assert response.status_code == 202, response.content
    new_id = response.json()["image_id"]
    assert nova.show(server_id)["OS-EXT-STS:task_state"] == "image_snapshot"
    assert Image.objects.filter(pk__in=older).count() == 3  # nothing rotated before the copy ends

    assert run_backups() == ["active; rotated 2"]
    shown = glance_call(nova, "get", f"/images/{new_id}").json()
    assert (shown["status"], shown["size"], shown["visibility"]) == ("active", GIB, "private")
    assert (shown["image_type"], shown["backup_type"], shown["instance_uuid"]) == ("backup", "daily", server_id)
    assert (shown["purpose"], shown["base_image_ref"]) == ("nightly", image)
    remaining = set(Image.objects.filter(pk__in=[*older, weekly, other_server, new_id]).values_list("pk", flat=True))
    assert remaining == {older[2], new_id, weekly, other_server}
    assert nova.show(server_id)["OS-EXT-STS:task_state"] is None


def test_create_backup_with_rotation_0_deletes_every_backup_including_the_new_one(
    nova, on_host, backup_tasks, run_backups
):
    server_id = on_host["id"]
    older = old_backup(nova, server_id, "daily", "old")
    response = nova.action(server_id, "createBackup", backup_args(rotation=0), version="2.1")
    assert response.status_code == 202, response.content
    assert "Location" not in response  # Nova names no image the rotation is going to delete
    [(_, new_id, backup_type, rotation)] = backup_tasks
    assert (backup_type, rotation) == ("daily", 0)
    assert Image.objects.get(pk=new_id).status == "queued"
    assert run_backups() == ["active; rotated 2"]
    assert not Image.objects.filter(pk__in=[older, new_id]).exists()


def test_create_backup_names_the_image_in_location_before_2_45_when_rotation_keeps_it(nova, on_host, backup_tasks):
    response = nova.action(on_host["id"], "createBackup", backup_args(rotation="3"), version="2.44")
    assert response.status_code == 202 and response.content == b""
    image_id = response["Location"].rsplit("/", 1)[-1]
    assert response["Location"].endswith(f"/compute/v2.1/images/{image_id}")
    assert backup_tasks == [(on_host["id"], image_id, "daily", 3)]
    proxied = nova.get(f"/images/{image_id}", version="2.35").json()["image"]
    assert (proxied["status"], proxied["metadata"]["image_type"]) == ("SAVING", "backup")


def test_create_backup_is_409_while_a_snapshot_runs(nova, on_host, backup_tasks):
    assert nova.action(on_host["id"], "createImage", {"name": "snap"}).status_code == 202
    again = nova.action(on_host["id"], "createBackup", backup_args())
    assert again.status_code == 409
    assert "Cannot 'createBackup'" in fault(again)["message"] and "image_snapshot" in fault(again)["message"]
    assert len(backup_tasks) == 1 and not Image.objects.filter(name="bk").exists()


@pytest.mark.parametrize(
    "args",
    [
        None,
        [],
        {},
        {"backup_type": "daily", "rotation": 1},
        {"name": "bk", "rotation": 1},
        {"name": "bk", "backup_type": "daily"},
        backup_args(name=""),
        backup_args(name="x" * 256),
        backup_args(backup_type=5),
        backup_args(backup_type=None),
        backup_args(rotation=-1),
        backup_args(rotation="-1"),
        backup_args(rotation=1.5),
        backup_args(rotation=True),
        backup_args(rotation="two"),
        backup_args(metadata=[]),
        backup_args(metadata={"k": 1}),
        backup_args(extra=1),
    ],
)
def test_create_backup_is_400_when_arguments_are_bad(nova, on_host, backup_tasks, args):
    response = nova.action(on_host["id"], "createBackup", args)
    assert response.status_code == 400, response.content
    assert "badRequest" in response.json()
    assert not backup_tasks and not Image.objects.filter(properties__name="backup_type").exists()
    assert nova.show(on_host["id"])["OS-EXT-STS:task_state"] is None


def test_create_backup_is_404_when_server_belongs_to_another_project(other_nova, on_host, backup_tasks):
    response = other_nova.action(on_host["id"], "createBackup", backup_args())
    assert response.status_code == 404 and not backup_tasks


def test_create_backup_is_409_when_cluster_cannot_read_disks(nova, booted, backup_tasks):
    response = nova.action(booted["id"], "createBackup", backup_args())
    assert response.status_code == 409
    assert "cannot read or write a disk's bytes" in fault(response)["message"]
    assert not backup_tasks and not Image.objects.filter(name="bk").exists()


def test_rotation_keeps_a_protected_backup_and_reports_the_rest(nova, on_host, run_backups):
    server_id = on_host["id"]
    protected = make_image(
        nova, name="keep", image_type="backup", backup_type="daily", instance_uuid=server_id, protected=True
    )
    plain = old_backup(nova, server_id, "daily", "drop")
    response = nova.action(server_id, "createBackup", backup_args(rotation=1), version="2.45")
    new_id = response.json()["image_id"]
    assert run_backups() == ["active; rotated 1"]
    assert set(Image.objects.filter(pk__in=[protected, plain, new_id]).values_list("pk", flat=True)) == {
        protected,
        new_id,
    }
