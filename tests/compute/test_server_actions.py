"""Server actions through the state table and backend_ganeti: start/stop/reboot, resize, delete, lock,
consoles, createImage; Nova's 409 wording; what backend events make of each task."""

from __future__ import annotations

import pytest

from backend_ganeti.drivers.types import JobState
from backend_ganeti.models import Instance
from compute.models import Server
from compute.network.models import Port
from identity.quota_models import Holding
from identity.services import quotas
from tests.backend_ganeti.fake_driver import Step
from tests.compute.helpers import fault

pytestmark = pytest.mark.django_db


def usage(project, resource: str) -> int:
    return Holding.objects.with_bracket().get(project=project, user=None, resource_id=resource).usage_max


def status(nova, server_id: str) -> tuple[str, str | None]:
    server = nova.show(server_id)
    return server["status"], server["OS-EXT-STS:task_state"]


def test_stop_start_and_reboots_move_server_through_states_when_jobs_run(nova, booted, queued_jobs, run_jobs):
    sid = booted["id"]
    assert nova.action(sid, "os-stop").status_code == 202
    assert status(nova, sid) == ("ACTIVE", "powering-off")
    run_jobs()
    server = nova.show(sid)
    assert (server["status"], server["OS-EXT-STS:power_state"]) == ("SHUTOFF", 4)
    assert nova.action(sid, "os-start").status_code == 202
    assert status(nova, sid) == ("SHUTOFF", "powering-on")
    run_jobs()
    assert status(nova, sid) == ("ACTIVE", None)
    assert nova.action(sid, "reboot", {"type": "SOFT"}).status_code == 202
    assert status(nova, sid) == ("REBOOT", "rebooting")
    run_jobs()
    assert nova.action(sid, "reboot", {"type": "hard"}).status_code == 202
    assert status(nova, sid) == ("HARD_REBOOT", "rebooting_hard")
    run_jobs()
    assert status(nova, sid) == ("ACTIVE", None)


def test_start_is_409_with_nova_wording_when_server_active(nova, booted):
    response = nova.action(booted["id"], "os-start")
    assert response.status_code == 409
    assert fault(response)["message"] == f"Cannot 'start' instance {booted['id']} while it is in vm_state active"


def test_action_is_409_with_task_state_when_another_task_runs(nova, booted, queued_jobs):
    nova.action(booted["id"], "os-stop")
    response = nova.action(booted["id"], "reboot", {"type": "SOFT"})
    assert response.status_code == 409
    assert "task_state powering-off" in fault(response)["message"]


def test_hard_reboot_starts_server_when_it_is_stopped(nova, booted, cloud, inline_jobs):
    nova.action(booted["id"], "os-stop")
    assert nova.action(booted["id"], "reboot", {"type": "HARD"}).status_code == 202
    assert status(nova, booted["id"]) == ("ACTIVE", None)
    assert cloud.cluster("embedded").count("start") == 1


def test_resize_then_confirm_keeps_new_flavor_and_charges_difference_when_backend_applies_it(
    nova, project, booted, cloud, inline_jobs
):
    assert usage(project, "compute.ram_mib") == 512
    assert nova.action(booted["id"], "resize", {"flavorRef": "2"}).status_code == 202
    server = nova.show(booted["id"])
    assert (server["status"], server["flavor"]["original_name"]) == ("VERIFY_RESIZE", "m1.small")
    fake = cloud.cluster("embedded").vms[Instance.objects.get().name]
    assert (fake.vcpus, fake.memory_mb, fake.disks[0].size_mb) == (1, 2048, 20 * 1024)
    assert usage(project, "compute.ram_mib") == 2048 and usage(project, "compute.disk_gib") == 20
    assert nova.action(booted["id"], "confirmResize").status_code == 204
    assert status(nova, booted["id"]) == ("ACTIVE", None)
    assert Server.objects.get().old_flavor is None


def test_revert_resize_restores_old_flavor_and_refunds_when_asked(nova, project, booted, cloud, inline_jobs):
    nova.action(booted["id"], "resize", {"flavorRef": "3"})
    assert nova.action(booted["id"], "revertResize").status_code == 202
    server = nova.show(booted["id"])
    assert (server["status"], server["flavor"]["original_name"]) == ("ACTIVE", "m1.tiny")
    fake = cloud.cluster("embedded").vms[Instance.objects.get().name]
    assert (fake.vcpus, fake.memory_mb) == (1, 512)
    assert usage(project, "compute.cores") == 1 and usage(project, "compute.ram_mib") == 512


def test_resize_shows_resize_status_until_backend_finishes(nova, booted, queued_jobs, run_jobs):
    nova.action(booted["id"], "resize", {"flavorRef": "2"})
    assert status(nova, booted["id"]) == ("RESIZE", "resize_prep")
    run_jobs()  # vcpus/ram, then the disk growth it enqueues
    assert status(nova, booted["id"]) == ("VERIFY_RESIZE", None)


def test_resize_failure_keeps_old_flavor_and_refunds_when_backend_refuses(
    nova, project, booted, cloud, queued_jobs, run_jobs
):
    cloud.cluster("embedded").script(Step(JobState.QUEUED), Step(JobState.ERROR, error="not enough memory"))
    nova.action(booted["id"], "resize", {"flavorRef": "3"})
    run_jobs()
    server = nova.show(booted["id"])
    assert (server["status"], server["flavor"]["original_name"], server["OS-EXT-STS:task_state"]) == (
        "ACTIVE",
        "m1.tiny",
        None,
    )
    assert usage(project, "compute.cores") == 1 and usage(project, "compute.ram_mib") == 512


@pytest.mark.parametrize(
    ("flavor", "message"),
    [("1", "must change flavor"), ("999", "could not be found"), ("", "flavorRef")],
)
def test_resize_is_400_when_flavor_is_unusable(nova, booted, flavor, message):
    response = nova.action(booted["id"], "resize", {"flavorRef": flavor})
    assert response.status_code == 400 and message in fault(response)["message"]


def test_resize_to_smaller_disk_is_400_when_cluster_cannot_shrink(nova, admin_nova, booted, inline_jobs):
    nova.action(booted["id"], "resize", {"flavorRef": "2"})
    nova.action(booted["id"], "confirmResize")
    response = nova.action(booted["id"], "resize", {"flavorRef": "1"})
    assert response.status_code == 400 and "smaller disk" in fault(response)["message"]


def test_resize_is_403_when_quota_cannot_take_difference(nova, project, booted):
    quotas.set_limit(project, "compute.ram_mib", 1024, actor=None)
    response = nova.action(booted["id"], "resize", {"flavorRef": "2"})
    assert response.status_code == 403 and "Quota exceeded for ram" in fault(response)["message"]
    assert status(nova, booted["id"]) == ("ACTIVE", None)


def test_confirm_resize_is_409_when_not_resized(nova, booted):
    response = nova.action(booted["id"], "confirmResize")
    assert response.status_code == 409 and "vm_state active" in fault(response)["message"]


def test_delete_destroys_instance_then_frees_ports_and_quota_when_backend_confirms(
    nova, project, booted, cloud, queued_jobs, run_jobs
):
    sid = booted["id"]
    assert nova.delete(f"/servers/{sid}").status_code == 204
    assert status(nova, sid) == ("ACTIVE", "deleting")
    assert usage(project, "compute.servers") == 1 and Port.objects.filter(device_id=sid).exists()
    assert nova.delete(f"/servers/{sid}").status_code == 204  # already deleting: nothing new
    run_jobs()
    assert nova.get(f"/servers/{sid}").status_code == 404
    assert usage(project, "compute.servers") == 0 and usage(project, "compute.ram_mib") == 0
    assert not Port.objects.filter(device_id=sid).exists() and cloud.cluster("embedded").vms == {}
    row = Server.objects.get(pk=sid)
    assert (row.vm_state, row.deleted_at is not None) == ("deleted", True)


def test_delete_during_build_waits_for_create_then_destroys_when_create_not_submitted(
    nova, project, image, flavors, cluster, cloud, queued_jobs, run_jobs
):
    created = nova.boot(image, "1")
    assert nova.delete(f"/servers/{created['id']}").status_code == 204
    assert Server.objects.get().delete_requested is True
    run_jobs()
    assert nova.get(f"/servers/{created['id']}").status_code == 404
    assert usage(project, "compute.servers") == 0 and cloud.cluster("embedded").vms == {}


def test_delete_failure_leaves_server_in_error_with_fault_when_cluster_keeps_instance(
    nova, booted, cloud, queued_jobs, run_jobs
):
    cloud.cluster("embedded").script(Step(JobState.QUEUED), Step(JobState.ERROR, error="disk busy"))
    nova.delete(f"/servers/{booted['id']}")
    run_jobs()
    server = nova.show(booted["id"])
    assert server["status"] == "ERROR" and "disk busy" in server["fault"]["message"]
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204


def test_failed_build_shows_error_fault_when_cluster_job_fails(
    nova, image, flavors, cluster, cloud, queued_jobs, run_jobs
):
    cloud.cluster("embedded").script(Step(JobState.QUEUED), Step(JobState.ERROR, error="OS install failed"))
    created = nova.boot(image, "1")
    run_jobs()
    server = nova.show(created["id"])
    assert server["status"] == "ERROR"
    assert server["fault"]["code"] == 500 and "OS install failed" in server["fault"]["message"]


def test_locked_server_refuses_member_actions_until_unlocked(nova, admin_nova, booted, inline_jobs):
    sid = booted["id"]
    assert nova.action(sid, "lock").status_code == 202
    assert nova.show(sid)["locked"] is True
    response = nova.action(sid, "os-stop")
    assert response.status_code == 409 and fault(response)["message"] == f"Instance {sid} is locked"
    assert nova.delete(f"/servers/{sid}").status_code == 409
    assert nova.action(sid, "unlock").status_code == 202
    assert nova.action(sid, "os-stop").status_code == 202


def test_admin_lock_cannot_be_undone_by_member(nova, admin_nova, booted):
    assert admin_nova.action(booted["id"], "lock").status_code == 202
    assert nova.action(booted["id"], "unlock").status_code == 403


def test_remote_console_returns_signed_console_page_url_when_active(nova, booted, client):
    response = nova.post(
        f"/servers/{booted['id']}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    )
    assert response.status_code == 200
    console = response.json()["remote_console"]
    assert console["url"].startswith("http://testserver/compute/console?token=")
    page = client.get(console["url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and b"VNC console" in page.content
    assert client.get("/compute/console?token=forged").status_code == 404


def test_remote_console_refuses_other_protocols_and_old_versions(nova, booted):
    body = {"remote_console": {"protocol": "spice", "type": "spice-html5"}}
    assert nova.post(f"/servers/{booted['id']}/remote-consoles", body).status_code == 400
    vnc = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    assert nova.post(f"/servers/{booted['id']}/remote-consoles", vnc, version="2.5").status_code == 404
    assert nova.action(booted["id"], "os-getVNCConsole", {"type": "novnc"}, version="2.5").status_code == 200
    assert nova.action(booted["id"], "os-getVNCConsole", {"type": "novnc"}, version="2.6").status_code == 404


def test_console_is_409_when_server_stopped(nova, booted, inline_jobs):
    nova.action(booted["id"], "os-stop")
    body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    assert nova.post(f"/servers/{booted['id']}/remote-consoles", body).status_code == 409


def test_create_image_is_409_not_supported_when_server_active(nova, booted):
    response = nova.action(booted["id"], "createImage", {"name": "snap"})
    assert response.status_code == 409 and "not supported" in fault(response)["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"os-start": {"x": 1}},
        {"lock": []},
        {"reboot": {}},
        {"reboot": {"type": "MEDIUM"}},
        {"resize": "2"},
        {"resize": {"flavorRef": "2", "x": 1}},
        {"createImage": {}},
        {"no-such-action": None},
        {"os-start": None, "os-stop": None},
        {},
    ],
)
def test_action_is_400_when_body_is_malformed(nova, booted, body):
    assert nova.post(f"/servers/{booted['id']}/action", body).status_code == 400


@pytest.mark.parametrize("args", [None, {}])
def test_argumentless_actions_are_accepted_when_args_are_null_or_empty_object(nova, booted, run_jobs, args):
    sid = booted["id"]
    assert nova.action(sid, "lock", args).status_code == 202
    assert nova.action(sid, "unlock", args).status_code == 202
    assert nova.action(sid, "os-stop", args).status_code == 202
    run_jobs()
    assert nova.action(sid, "os-start", args).status_code == 202
    run_jobs()
    assert nova.action(sid, "resize", {"flavorRef": "2"}).status_code == 202
    run_jobs()
    assert nova.show(sid)["status"] == "VERIFY_RESIZE"
    assert nova.action(sid, "revertResize", args).status_code == 202
    run_jobs()
    assert nova.action(sid, "resize", {"flavorRef": "2"}).status_code == 202
    run_jobs()
    assert nova.action(sid, "confirmResize", args).status_code == 204


def test_security_groups_leave_and_join_server_ports_when_removed_and_added(nova, booted):
    sid = booted["id"]
    port = Port.objects.get(device_id=sid)
    assert list(port.security_groups.values_list("name", flat=True)) == ["default"]
    assert nova.action(sid, "removeSecurityGroup", {"name": "default"}).status_code == 202
    assert "security_groups" not in nova.show(sid) and not port.security_groups.exists()
    response = nova.action(sid, "removeSecurityGroup", {"name": "default"})
    assert response.status_code == 400 and "not associated" in fault(response)["message"]
    assert nova.action(sid, "addSecurityGroup", {"name": "default"}).status_code == 202
    assert nova.show(sid)["security_groups"] == [{"name": "default"}]
    assert list(port.security_groups.values_list("name", flat=True)) == ["default"]
    assert nova.action(sid, "addSecurityGroup", {"name": "default"}).status_code == 400
    assert nova.action(sid, "addSecurityGroup", {"name": "no-such-group"}).status_code == 404
    assert nova.action(sid, "addSecurityGroup", {"nom": "default"}).status_code == 400


def test_action_is_404_for_unknown_or_malformed_server_id(nova, db):
    for server_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert nova.action(server_id, "os-start").status_code == 404


@pytest.mark.parametrize("action", ["os-start", "forceDelete", "restore", "os-getConsoleOutput", "rebuild"])
def test_action_is_404_when_server_missing_even_if_action_not_served(nova, db, action):
    assert nova.action("00000000-0000-0000-0000-000000000000", action, {}).status_code == 404


def test_action_not_served_is_400_when_server_exists(nova, booted):
    assert nova.action(booted["id"], "forceDelete").status_code == 400


def test_reader_cannot_act_but_can_read(reader_nova, booted):
    assert reader_nova.action(booted["id"], "os-stop").status_code == 403
    assert reader_nova.get(f"/servers/{booted['id']}").status_code == 200


def test_project_delete_refused_when_project_still_has_servers(project, booted, admin_user):
    from identity.services.projects import delete_project
    from portal.errors import InvalidState

    with pytest.raises(InvalidState, match="still has 1 server"):
        delete_project(project, actor=admin_user)
    assert Server.objects.filter(pk=booted["id"]).exists()
    assert Instance.objects.get().project_id == project.pk


def test_project_delete_removes_deleted_server_rows_when_no_server_is_live(project, booted, admin_user):
    from django.utils import timezone

    from identity.models import Project
    from identity.services.projects import delete_project

    Server.objects.filter(pk=booted["id"]).update(deleted_at=timezone.now())
    delete_project(project, actor=admin_user)
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Server.objects.exists()


def test_keystone_project_delete_is_409_when_project_still_has_servers(project, booted, admin_user):
    from django.test import Client

    from tests.factories import make_token

    token = make_token(admin_user, project, roles=("admin", "member", "reader"))
    response = Client().delete(f"/identity/v3/projects/{project.pk}", HTTP_X_AUTH_TOKEN=token)
    assert response.status_code == 409
    assert "still has 1 server" in response.json()["error"]["message"]
    assert Server.objects.filter(pk=booted["id"]).exists()
