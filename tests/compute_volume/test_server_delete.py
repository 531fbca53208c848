"""Deleting a server keeps its volumes (Nova's behaviour): they are detached, one backend job after
another, and only then is the instance destroyed; the volumes end `available` with their disks
kept by the cluster (the fake cluster driver's `detached`)."""

from __future__ import annotations

import pytest

from backend_ganeti.drivers.types import JobState
from backend_ganeti.models import Instance, Job
from compute.models import Server
from compute.volume.models import Volume
from tests.backend_ganeti.fake_driver import Step


def _attach(nova, server_id: str, volume_id: str) -> None:
    response = nova.post(f"/servers/{server_id}/os-volume_attachments", {"volumeAttachment": {"volumeId": volume_id}})
    assert response.status_code == 200, response.content


def _fake(cloud, server_id: str):
    instance = Instance.objects.get(pk=Server.objects.get(pk=server_id).instance_id)
    return cloud.cluster(instance.cluster.name), instance


def test_server_deletion_detaches_volumes_and_keeps_disks_when_attached(nova, cinder, booted, cloud):
    first, second = cinder.create(1), cinder.create(2)
    _attach(nova, booted["id"], first["id"])
    _attach(nova, booted["id"], second["id"])
    fake, instance = _fake(cloud, booted["id"])
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    assert nova.get(f"/servers/{booted['id']}").status_code == 404
    assert instance.name not in fake.vms
    for volume in (first, second):
        shown = cinder.show(volume["id"])
        assert (shown["status"], shown["attachments"]) == ("available", []), shown
        assert volume["id"] in fake.detached
        row = Volume.objects.get(pk=volume["id"])
        assert row.cluster_id == instance.cluster_id and row.fault == "" and row.server_id is None
    operations = [j.operation for j in Job.objects.filter(instance=instance).order_by("pk")]
    assert operations[-3:] == ["detach_disk", "detach_disk", "destroy"]
    assert fake.detached[second["id"]].size_mb == 2048


def test_server_destroy_waits_for_detach_job_when_jobs_are_queued(nova, cinder, booted, cloud, queued_jobs, run_jobs):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    run_jobs()
    fake, instance = _fake(cloud, booted["id"])
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    pending = list(
        Job.objects.filter(instance=instance, status=Job.Status.SUBMITTING).values_list("operation", flat=True)
    )
    assert pending == ["detach_disk"]  # no destroy is queued while the volume is attached
    assert cinder.show(volume["id"])["status"] == "detaching"
    assert nova.show(booted["id"])["OS-EXT-STS:task_state"] == "deleting"
    run_jobs()
    destroy, detach = (Job.objects.filter(instance=instance, operation=op).get() for op in ("destroy", "detach_disk"))
    assert detach.ended_at is not None and detach.ended_at <= destroy.created_at
    assert cinder.show(volume["id"])["status"] == "available"
    assert volume["id"] in fake.detached and instance.name not in fake.vms
    assert nova.get(f"/servers/{booted['id']}").status_code == 404


def test_server_deletion_fails_and_keeps_volume_when_cluster_refuses_detach(nova, cinder, booted, cloud):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    fake, instance = _fake(cloud, booted["id"])
    fake.script(Step(JobState.ERROR, error="OpPrereqError: disk is busy"))
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    server = nova.show(booted["id"])
    assert server["status"] == "ERROR" and "could not be detached" in server["fault"]["message"]
    assert "disk is busy" in server["fault"]["message"]
    assert cinder.show(volume["id"])["status"] == "in-use"
    assert instance.name in fake.vms and volume["id"] in [d.name for d in fake.vms[instance.name].disks]
    assert not Job.objects.filter(instance=instance, operation="destroy").exists()
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204  # deleting again retries the detach
    assert nova.get(f"/servers/{booted['id']}").status_code == 404
    assert cinder.show(volume["id"])["status"] == "available" and volume["id"] in fake.detached


def test_kept_volume_attaches_to_another_server_when_its_server_was_deleted(
    nova, cinder, booted, cloud, image, network
):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    _, instance = _fake(cloud, booted["id"])
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    other = nova.boot(image, "1", network)
    if Instance.objects.get(pk=Server.objects.get(pk=other["id"]).instance_id).primary_node != instance.primary_node:
        pytest.skip("the new server landed on another node (file disks stay on theirs)")
    _attach(nova, other["id"], volume["id"])
    assert cinder.show(volume["id"])["status"] == "in-use"
    new_fake, new_instance = _fake(cloud, other["id"])
    assert volume["id"] in [d.name for d in new_fake.vms[new_instance.name].disks]
    assert Job.objects.filter(instance=new_instance).order_by("pk").last().operation == "attach_disk"


def test_server_deletion_destroys_at_once_when_no_volume_is_attached(nova, cinder, booted, cloud, queued_jobs):
    cinder.create(1)
    _, instance = _fake(cloud, booted["id"])
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    pending = list(
        Job.objects.filter(instance=instance, status=Job.Status.SUBMITTING).values_list("operation", flat=True)
    )
    assert pending == ["destroy"]
