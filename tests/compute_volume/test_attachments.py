"""Attaching and detaching volumes through Nova's os-volume_attachments, on the fake cluster driver.

The backend jobs run inline (`inline_jobs`) or on demand (`run_jobs`); the volume's status follows
the job through backend_ganeti's `instance_changed` (attaching -> in-use, detaching -> available).
"""

from __future__ import annotations

from backend_ganeti.models import Instance, Job
from compute.models import Server
from compute.volume.models import Volume
from identity.services import quotas


def _attach(nova, server_id: str, volume_id: str, **extra):
    return nova.post(
        f"/servers/{server_id}/os-volume_attachments", {"volumeAttachment": {"volumeId": volume_id, **extra}}
    )


def _disk_names(cloud, server_id: str) -> list[str]:
    instance = Instance.objects.get(pk=Server.objects.get(pk=server_id).instance_id)
    return [d.name for d in cloud.cluster(instance.cluster.name).vms[instance.name].disks]


def test_attach_materialises_disk_and_goes_in_use_when_job_succeeds(nova, cinder, booted, cloud):
    volume = cinder.create(1)
    response = _attach(nova, booted["id"], volume["id"])
    assert response.status_code == 200, response.content
    attachment = response.json()["volumeAttachment"]
    assert attachment == {"id": volume["id"], "volumeId": volume["id"], "serverId": booted["id"], "device": "/dev/vdb"}
    shown = cinder.show(volume["id"])
    assert shown["status"] == "in-use"
    assert shown["attachments"][0]["server_id"] == booted["id"] and shown["attachments"][0]["device"] == "/dev/vdb"
    assert volume["id"] in _disk_names(cloud, booted["id"])
    row = Volume.objects.get(pk=volume["id"])
    assert row.cluster is not None and row.job is None
    server = nova.show(booted["id"])
    assert server["os-extended-volumes:volumes_attached"] == [{"id": volume["id"], "delete_on_termination": False}]
    listed = nova.get(f"/servers/{booted['id']}/os-volume_attachments").json()["volumeAttachments"]
    assert [a["volumeId"] for a in listed] == [volume["id"]]
    one = nova.get(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    assert one.status_code == 200 and one.json()["volumeAttachment"]["serverId"] == booted["id"]


def test_volume_is_attaching_until_job_runs_when_jobs_are_queued(nova, cinder, booted, queued_jobs, run_jobs):
    volume = cinder.create(1)
    assert _attach(nova, booted["id"], volume["id"]).status_code == 200
    assert cinder.show(volume["id"])["status"] == "attaching"
    again = _attach(nova, booted["id"], volume["id"])
    assert again.status_code == 400 and "must be available" in again.json()["badRequest"]["message"]
    run_jobs()
    assert cinder.show(volume["id"])["status"] == "in-use"


def test_detach_keeps_disk_on_cluster_and_goes_available_when_job_succeeds(nova, cinder, booted, cloud):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    response = nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    assert response.status_code == 202, response.content
    shown = cinder.show(volume["id"])
    assert (shown["status"], shown["attachments"]) == ("available", [])
    assert volume["id"] not in _disk_names(cloud, booted["id"])
    instance = Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id)
    assert volume["id"] in cloud.cluster(instance.cluster.name).detached
    assert nova.show(booted["id"])["os-extended-volumes:volumes_attached"] == []


def test_reattach_uses_kept_disk_when_volume_was_detached(nova, cinder, booted, cloud):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    assert _attach(nova, booted["id"], volume["id"]).status_code == 200
    assert cinder.show(volume["id"])["status"] == "in-use"
    operations = [j.operation for j in Job.objects.order_by("pk")]
    assert operations[-3:] == ["add_disk", "detach_disk", "attach_disk"]
    instance = Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id)
    assert volume["id"] not in cloud.cluster(instance.cluster.name).detached


def test_delete_removes_kept_disk_through_cluster_when_volume_was_attached_before(nova, cinder, booted, cloud, project):
    volume = cinder.create(2)
    _attach(nova, booted["id"], volume["id"])
    nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    assert not Volume.objects.filter(pk=volume["id"]).exists()
    instance = Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id)
    assert volume["id"] not in cloud.cluster(instance.cluster.name).detached
    assert Job.objects.order_by("pk").last().operation == "delete_detached_disk"
    usage = {row["resource"]: row["usage"] for row in quotas.usage(project)}
    assert (usage["volume.volumes"], usage["volume.gib"]) == (0, 0)


def test_delete_is_400_when_volume_is_in_use(nova, cinder, booted):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    response = cinder.delete(f"/volumes/{volume['id']}")
    assert response.status_code == 400 and "must be available" in response.json()["badRequest"]["message"]


def test_extend_is_400_when_volume_was_attached_before(nova, cinder, booted):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    response = cinder.post(f"/volumes/{volume['id']}/action", {"os-extend": {"new_size": 2}})
    assert (
        response.status_code == 400 and "only before its first attachment" in response.json()["badRequest"]["message"]
    )


def test_attach_failure_returns_volume_to_available_when_job_fails(nova, cinder, booted, cloud):
    from backend_ganeti.drivers.types import JobState
    from tests.backend_ganeti.fake_driver import Step

    volume = cinder.create(1)
    instance = Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id)
    cloud.cluster(instance.cluster.name).script(Step(JobState.ERROR, error="OpPrereqError: no space"))
    assert _attach(nova, booted["id"], volume["id"]).status_code == 200
    shown = cinder.show(volume["id"])
    assert (shown["status"], shown["attachments"]) == ("available", [])
    row = Volume.objects.get(pk=volume["id"])
    assert row.cluster is None and "no space" in row.fault


def test_server_deletion_leaves_volume_in_error_when_instance_cannot_detach(nova, cinder, booted):
    # An instance in error takes no disk change: the destroy goes ahead (see test_server_delete.py
    # for the normal case, where the volume is detached first and kept).
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    Instance.objects.filter(pk=Server.objects.get(pk=booted["id"]).instance_id).update(status=Instance.Status.ERROR)
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    row = Volume.objects.get(pk=volume["id"])
    assert row.status == "error" and "data is lost" in row.fault and row.cluster is None
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    assert not Volume.objects.filter(pk=volume["id"]).exists()


BAD_ATTACHES = [
    ({"volumeAttachment": {}}, 400, "volumeId"),
    ({"volumeAttachment": {"volumeId": "nope"}}, 400, "uuid"),
    ({"volumeAttachment": {"volumeId": "00000000-0000-0000-0000-000000000001"}}, 404, "could not be found"),
    ({"volumeAttachment": {"volumeId": "00000000-0000-0000-0000-000000000001", "tag": "x"}}, 400, "tag"),
    ({"other": 1}, 400, "volumeAttachment"),
]


def test_attach_is_clear_fault_when_input_is_bad(nova, booted):
    for body, status, words in BAD_ATTACHES:
        response = nova.post(f"/servers/{booted['id']}/os-volume_attachments", body)
        assert response.status_code == status, (body, response.content)
        assert words in next(iter(response.json().values()))["message"], (body, response.content)


def test_attach_is_400_when_volume_lives_on_another_cluster(nova, cinder, booted, cloud):
    from tests.backend_ganeti.backend_factories import make_cluster

    volume = cinder.create(1)
    other = make_cluster("elsewhere", disk_templates=["file"])
    Volume.objects.filter(pk=volume["id"]).update(cluster=other)
    response = _attach(nova, booted["id"], volume["id"])
    assert response.status_code == 400
    assert "only to servers of the cluster its data is on" in response.json()["badRequest"]["message"]


def test_delete_finishes_when_cluster_says_disk_is_gone(nova, cinder, booted, cloud):
    from backend_ganeti.drivers.types import JobState
    from tests.backend_ganeti.fake_driver import Step

    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    instance = Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id)
    fake = cloud.cluster(instance.cluster.name)
    fake.script(Step(JobState.ERROR, error="no detached disk named x"))
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    assert not Volume.objects.filter(pk=volume["id"]).exists()


def test_delete_ends_error_deleting_with_reason_when_cluster_refuses(nova, cinder, booted, cloud):
    from backend_ganeti.drivers.types import JobState
    from tests.backend_ganeti.fake_driver import Step

    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    instance = Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id)
    cloud.cluster(instance.cluster.name).script(Step(JobState.ERROR, error="OpPrereqError: without using hotplug"))
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    shown = cinder.show(volume["id"])
    assert shown["status"] == "error_deleting"
    assert "hotplug" in Volume.objects.get(pk=volume["id"]).fault
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202  # a retry is allowed
    assert not Volume.objects.filter(pk=volume["id"]).exists()


def test_attach_is_400_when_volume_disk_is_on_another_node(nova, cinder, booted):
    volume = cinder.create(1)
    _attach(nova, booted["id"], volume["id"])
    nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{volume['id']}")
    row = Volume.objects.get(pk=volume["id"])
    assert row.node == Instance.objects.get(pk=Server.objects.get(pk=booted["id"]).instance_id).primary_node
    Volume.objects.filter(pk=row.pk).update(node="some-other-node")
    response = _attach(nova, booted["id"], volume["id"])
    assert response.status_code == 400
    assert "only to an instance on the node that holds it" in response.json()["badRequest"]["message"]
    assert cinder.show(volume["id"])["status"] == "available"
