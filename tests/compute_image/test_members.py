"""Visibility and members: who sees, lists, downloads and answers for each kind of image."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def listed(client, query: str = "") -> set[str]:
    response = client.get(f"/images{query}")
    assert response.status_code == 200
    return {image["id"] for image in response.json()["images"]}


@pytest.mark.parametrize(
    ("visibility", "other_sees", "other_lists"),
    [("private", False, False), ("shared", False, False), ("public", True, True), ("community", True, False)],
)
def test_visibility_matrix_when_no_membership(admin, glance, other, visibility, other_sees, other_lists):
    maker = admin if visibility == "public" else glance
    image = maker.create_active(b"v", visibility=visibility, owner=glance.project.pk)
    assert glance.get(f"/images/{image['id']}").status_code == 200
    assert image["id"] in listed(glance, "?visibility=all")
    assert (other.get(f"/images/{image['id']}").status_code == 200) is other_sees
    assert (other.get(f"/images/{image['id']}/file").status_code == 200) is other_sees
    assert (image["id"] in listed(other)) is other_lists
    assert (image["id"] in listed(other, "?visibility=all")) is other_sees
    assert admin.get(f"/images/{image['id']}").status_code == 200


def test_community_image_listed_when_visibility_community_asked(glance, other):
    image = glance.create(visibility="community")
    assert image["id"] in listed(other, "?visibility=community")


@pytest.fixture
def shared(glance, other, other_project):
    image = glance.create_active(b"shared-bytes", name="offer")
    response = glance.post(f"/images/{image['id']}/members", {"member": other_project.pk})
    assert response.status_code == 200, response.content
    return image


def test_member_sees_but_does_not_list_when_pending(shared, other, other_project):
    assert other.get(f"/images/{shared['id']}").status_code == 200
    assert shared["id"] not in listed(other)
    assert shared["id"] in listed(other, "?visibility=shared&member_status=pending")
    member = other.get(f"/images/{shared['id']}/members/{other_project.pk}").json()
    assert member["status"] == "pending" and member["image_id"] == shared["id"]
    assert member["schema"] == "/v2/schemas/member"


def test_member_lists_image_when_accepted(shared, other, other_project):
    response = other.put_json(f"/images/{shared['id']}/members/{other_project.pk}", {"status": "accepted"})
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert shared["id"] in listed(other)
    assert b"".join(other.get(f"/images/{shared['id']}/file").streaming_content) == b"shared-bytes"


def test_member_does_not_list_image_when_rejected(shared, other, other_project):
    other.put_json(f"/images/{shared['id']}/members/{other_project.pk}", {"status": "rejected"})
    assert shared["id"] not in listed(other)
    assert shared["id"] in listed(other, "?member_status=rejected")


def test_owner_cannot_accept_for_member_when_updating_status(shared, glance, other_project):
    response = glance.put_json(f"/images/{shared['id']}/members/{other_project.pk}", {"status": "accepted"})
    assert response.status_code == 403


def test_member_status_answers_400_when_invalid(shared, other, other_project):
    url = f"/images/{shared['id']}/members/{other_project.pk}"
    assert other.put_json(url, {"status": "maybe"}).status_code == 400
    assert other.put_json(url, {"nothing": 1}).status_code == 400
    assert other.put_json(url, ["status"]).status_code == 400


def test_owner_lists_all_members_and_member_only_itself_when_listing(shared, glance, other, other_project):
    assert [m["member_id"] for m in glance.get(f"/images/{shared['id']}/members").json()["members"]] == [
        other_project.pk
    ]
    body = other.get(f"/images/{shared['id']}/members").json()
    assert [m["member_id"] for m in body["members"]] == [other_project.pk] and body["schema"] == "/v2/schemas/members"


def test_member_cannot_add_or_remove_members_when_not_owner(shared, other, other_project, project):
    assert other.post(f"/images/{shared['id']}/members", {"member": project.pk}).status_code == 403
    assert other.delete(f"/images/{shared['id']}/members/{other_project.pk}").status_code == 403


def test_owner_removes_member_when_deleting(shared, glance, other, other_project):
    other.put_json(f"/images/{shared['id']}/members/{other_project.pk}", {"status": "accepted"})
    assert glance.delete(f"/images/{shared['id']}/members/{other_project.pk}").status_code == 204
    assert other.get(f"/images/{shared['id']}").status_code == 404
    assert glance.get(f"/images/{shared['id']}/members/{other_project.pk}").status_code == 404


def test_add_member_answers_409_when_duplicate(shared, glance, other_project):
    assert glance.post(f"/images/{shared['id']}/members", {"member": other_project.pk}).status_code == 409


@pytest.mark.parametrize("body", [{}, {"member": 5}, {"member": ""}, {"member": "no-such-project"}, ["x"]])
def test_add_member_answers_400_when_member_invalid(glance, body):
    image = glance.create()
    assert glance.post(f"/images/{image['id']}/members", body).status_code == 400


def test_add_member_answers_403_when_image_not_shared(glance, other_project):
    image = glance.create(visibility="private")
    assert glance.post(f"/images/{image['id']}/members", {"member": other_project.pk}).status_code == 403
    assert glance.get(f"/images/{image['id']}/members").status_code == 403


def test_members_become_inert_when_image_made_private(shared, glance, other):
    glance.patch(f"/images/{shared['id']}", [{"op": "replace", "path": "/visibility", "value": "private"}])
    assert other.get(f"/images/{shared['id']}").status_code == 404


def test_third_project_sees_nothing_when_not_member(shared, glance_for, db):
    from tests.factories import ProjectFactory, UserFactory, assign

    project = ProjectFactory()
    user = UserFactory()
    assign(user, project, "member")
    third = glance_for(user, project)
    assert third.get(f"/images/{shared['id']}").status_code == 404
    assert third.get(f"/images/{shared['id']}/members").status_code == 404
    assert shared["id"] not in listed(third, "?visibility=shared&member_status=all")


def test_member_cannot_modify_image_when_shared_with_it(shared, other, other_project):
    other.put_json(f"/images/{shared['id']}/members/{other_project.pk}", {"status": "accepted"})
    ops = [{"op": "replace", "path": "/name", "value": "stolen"}]
    assert other.patch(f"/images/{shared['id']}", ops).status_code == 403
    assert other.delete(f"/images/{shared['id']}").status_code == 403
    assert other.upload(shared["id"], b"x").status_code == 403
