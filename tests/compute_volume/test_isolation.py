"""Isolation: another project's member never reaches a volume, its quota or its attachments (404/403)."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.factories import UserFactory, assign, make_token
from tests.isolation import assert_isolated


def test_foreign_volumes_are_404_when_asked_by_another_project(cinder, nova, booted, other_project, project):
    volume = cinder.create(1, name="secret-volume")
    vid = volume["id"]
    nova.post(f"/servers/{booted['id']}/os-volume_attachments", {"volumeAttachment": {"volumeId": vid}})
    outsider = UserFactory()
    assign(outsider, other_project, "member", "reader")
    token = make_token(outsider, other_project)
    mine, theirs = f"/volume/v3/{project.pk}", f"/volume/v3/{other_project.pk}"
    server = f"/compute/v2.1/servers/{booted['id']}"
    probes = [
        ("GET", f"{mine}/volumes"),
        ("GET", f"{mine}/volumes/detail"),
        ("POST", f"{mine}/volumes", {"volume": {"size": 1}}),
        ("GET", f"{mine}/volumes/{vid}"),
        ("GET", f"{theirs}/volumes/{vid}"),
        ("PUT", f"{theirs}/volumes/{vid}", {"volume": {"name": "x"}}),
        ("DELETE", f"{theirs}/volumes/{vid}"),
        ("GET", f"{theirs}/volumes/{vid}/metadata"),
        ("POST", f"{theirs}/volumes/{vid}/action", {"os-extend": {"new_size": 5}}),
        ("GET", f"{mine}/limits"),
        ("GET", f"{theirs}/os-quota-sets/{project.pk}"),
        ("GET", f"{theirs}/os-quota-sets/{project.pk}?usage=True"),
        ("GET", f"{server}/os-volume_attachments"),
        ("GET", f"{server}/os-volume_attachments/{vid}"),
        ("DELETE", f"{server}/os-volume_attachments/{vid}"),
    ]
    assert_isolated(APIClient(), token, probes, forbidden=[vid, "secret-volume", str(project.pk)])
    assert cinder.show(vid)["status"] == "in-use"


def test_foreign_volume_cannot_be_attached_when_server_is_mine(cinder_for, other_project, nova, booted):
    outsider = UserFactory()
    assign(outsider, other_project, "member", "reader")
    theirs = cinder_for(outsider, other_project).create(1)
    response = nova.post(
        f"/servers/{booted['id']}/os-volume_attachments", {"volumeAttachment": {"volumeId": theirs["id"]}}
    )
    assert response.status_code == 404


def test_reader_cannot_create_volume_when_read_only(cinder_for, project):
    reader = UserFactory()
    assign(reader, project, "reader")
    response = cinder_for(reader, project, ("reader",)).post("/volumes", {"volume": {"size": 1}})
    assert response.status_code == 403 and "forbidden" in response.json()
