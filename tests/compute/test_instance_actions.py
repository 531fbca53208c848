"""os-instance-actions: a server's actions from the audit log, their backend-job events (admins),
deleted servers from 2.21, project scope and tempest's schemas."""

from __future__ import annotations

import uuid

import pytest

from backend_ganeti.drivers.types import JobState
from tests.backend_ganeti.fake_driver import Step
from tests.compute.helpers import fault
from tests.compute.tempest_schemas import assert_valid

pytestmark = pytest.mark.django_db


def actions(nova, server_id: str, **kw) -> list[dict]:
    response = nova.get(f"/servers/{server_id}/os-instance-actions", **kw)
    assert response.status_code == 200, response.content
    return response.json()["instanceActions"]


def test_list_shows_create_and_stop_newest_first_when_server_was_stopped(nova, booted, inline_jobs):
    sid = booted["id"]
    stop = nova.action(sid, "os-stop")
    assert stop.status_code == 202
    listed = actions(nova, sid)
    assert [a["action"] for a in listed] == ["stop", "create"]
    assert listed[0]["request_id"] == stop["X-Compute-Request-Id"] == stop["X-Openstack-Request-Id"]
    for item in listed:
        assert item["instance_uuid"] == sid
        assert item["user_id"] == str(nova.user.pk)
        assert item["project_id"] == str(nova.project.pk)
        assert item["message"] is None
        assert item["start_time"].count(":") == 2 and "T" in item["start_time"]
    assert listed[1]["start_time"] <= listed[0]["start_time"]


def test_boot_answer_names_the_create_action_request_id(nova, image, flavors, network, cluster, inline_jobs):
    response = nova.post("/servers", {"server": {"name": "a", "imageRef": image, "flavorRef": "1",
                                                 "networks": [{"uuid": network}]}})  # fmt: skip
    sid = response.json()["server"]["id"]
    request_id = response["X-Compute-Request-Id"]
    shown = nova.get(f"/servers/{sid}/os-instance-actions/{request_id}")
    assert shown.status_code == 200, shown.content
    body = shown.json()["instanceAction"]
    assert (body["action"], body["instance_uuid"], body["request_id"]) == ("create", sid, request_id)
    assert "events" not in body  # Nova's default policy before 2.51: events are for admins


def test_show_has_job_event_for_admins_when_backend_job_ran(nova, admin_nova, booted, inline_jobs):
    sid = booted["id"]
    request_id = nova.action(sid, "reboot", {"type": "HARD"})["X-Compute-Request-Id"]
    body = admin_nova.get(f"/servers/{sid}/os-instance-actions/{request_id}").json()["instanceAction"]
    assert body["action"] == "reboot"
    assert len(body["events"]) == 1
    event = body["events"][0]
    assert (event["event"], event["result"], event["traceback"]) == ("compute_reboot_instance", "Success", None)
    assert event["start_time"] <= event["finish_time"]
    create = next(a for a in actions(admin_nova, sid) if a["action"] == "create")
    created = admin_nova.get(f"/servers/{sid}/os-instance-actions/{create['request_id']}").json()["instanceAction"]
    assert [e["event"] for e in created["events"]] == ["compute__do_build_and_run_instance"]


def test_event_is_unfinished_then_error_with_traceback_when_job_fails(
    nova, admin_nova, booted, cloud, queued_jobs, run_jobs
):
    sid = booted["id"]
    cloud.cluster("embedded").script(Step(JobState.ERROR, error="node exploded"))
    request_id = nova.action(sid, "os-stop")["X-Compute-Request-Id"]
    path = f"/servers/{sid}/os-instance-actions/{request_id}"
    pending = admin_nova.get(path).json()["instanceAction"]["events"][0]
    assert (pending["finish_time"], pending["result"]) == (None, None)
    run_jobs()
    body = admin_nova.get(path).json()["instanceAction"]
    assert body["message"] == "Error"
    assert body["events"][0]["result"] == "Error"
    assert "node exploded" in body["events"][0]["traceback"]


def test_lock_unlock_resize_confirm_are_named_as_nova_names_them(nova, booted, inline_jobs):
    sid = booted["id"]
    for name, args in (("lock", None), ("unlock", None), ("resize", {"flavorRef": "2"}), ("confirmResize", None)):
        assert nova.action(sid, name, args).status_code in (202, 204)
    assert [a["action"] for a in actions(nova, sid)] == ["confirmResize", "resize", "unlock", "lock", "create"]


def test_deleted_server_actions_are_listed_from_2_21_only(nova, booted, inline_jobs):
    sid = booted["id"]
    assert nova.delete(f"/servers/{sid}").status_code == 204
    assert sorted(a["action"] for a in actions(nova, sid)) == ["create", "delete"]
    old = nova.get(f"/servers/{sid}/os-instance-actions", version="2.20")
    assert old.status_code == 404
    assert fault(old)["message"] == f"Instance {sid} could not be found."


def test_other_projects_server_and_request_ids_are_404(nova, other_nova, booted, inline_jobs):
    sid = booted["id"]
    request_id = actions(nova, sid)[0]["request_id"]
    assert other_nova.get(f"/servers/{sid}/os-instance-actions").status_code == 404
    assert other_nova.get(f"/servers/{sid}/os-instance-actions/{request_id}").status_code == 404
    # The request id of another project's server does not show through one's own server.
    own = other_nova.boot(booted["image"]["id"], "1")
    assert other_nova.get(f"/servers/{own['id']}/os-instance-actions/{request_id}").status_code == 404
    assert nova.get(f"/servers/{uuid.uuid4()}/os-instance-actions").status_code == 404
    missing = nova.get(f"/servers/{sid}/os-instance-actions/999")
    assert missing.status_code == 404
    assert fault(missing)["message"] == "Action 999 not found"


@pytest.mark.parametrize("version", ["2.1", "2.21", "2.47"])
def test_responses_match_tempest_schemas_when_at_version(nova, admin_nova, booted, inline_jobs, version):
    sid = booted["id"]
    request_id = nova.action(sid, "os-stop")["X-Compute-Request-Id"]
    for who in (nova, admin_nova):
        assert_valid(who.get(f"/servers/{sid}/os-instance-actions", version=version), "servers",
                     "list_instance_actions", version)  # fmt: skip
        shown = who.get(f"/servers/{sid}/os-instance-actions/{request_id}", version=version)
        assert_valid(shown, "servers", "show_instance_action", version)


def test_admin_sees_no_events_key_when_no_backend_job_did_the_work(nova, admin_nova, booted):
    sid = booted["id"]
    request_id = nova.action(sid, "lock")["X-Compute-Request-Id"]
    body = admin_nova.get(f"/servers/{sid}/os-instance-actions/{request_id}").json()["instanceAction"]
    assert body["action"] == "lock"
    assert "events" not in body
