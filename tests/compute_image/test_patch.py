"""PATCH /v2/images/{id}: both JSON-patch dialects, Glance's add/replace/remove rules and statuses."""

from __future__ import annotations

import pytest

from tests.compute_image.conftest import PATCH_V20, PATCH_V21

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(glance):
    return glance.create(name="before", os_distro="debian")


def test_replace_changes_core_attributes_when_v21_patch(glance, image):
    ops = [
        {"op": "replace", "path": "/name", "value": "after"},
        {"op": "replace", "path": "/min_ram", "value": 512},
        {"op": "replace", "path": "/protected", "value": True},
        {"op": "replace", "path": "/visibility", "value": "private"},
        {"op": "replace", "path": "/tags", "value": ["x", "y"]},
    ]
    response = glance.patch(f"/images/{image['id']}", ops)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["min_ram"], body["protected"], body["visibility"]) == ("after", 512, True, "private")
    assert body["tags"] == ["x", "y"]
    assert glance.get(f"/images/{image['id']}").json()["name"] == "after"


def test_add_sets_and_overwrites_properties_when_v21_patch(glance, image):
    ops = [
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
        {"op": "add", "path": "/os_distro", "value": "ubuntu"},
    ]
    body = glance.patch(f"/images/{image['id']}", ops).json()
    assert body["hw_disk_bus"] == "virtio" and body["os_distro"] == "ubuntu"


def test_remove_deletes_property_when_present(glance, image):
    body = glance.patch(f"/images/{image['id']}", [{"op": "remove", "path": "/os_distro"}]).json()
    assert "os_distro" not in body


def test_replace_answers_409_when_property_missing(glance, image):
    response = glance.patch(f"/images/{image['id']}", [{"op": "replace", "path": "/nothing", "value": "x"}])
    assert response.status_code == 409


def test_remove_answers_409_when_property_missing(glance, image):
    assert glance.patch(f"/images/{image['id']}", [{"op": "remove", "path": "/nothing"}]).status_code == 409


@pytest.mark.parametrize("path", ["/name", "/tags", "/visibility", "/min_disk"])
def test_remove_answers_403_when_core_attribute(glance, image, path):
    assert glance.patch(f"/images/{image['id']}", [{"op": "remove", "path": path}]).status_code == 403


@pytest.mark.parametrize("path", ["/id", "/status", "/checksum", "/size", "/created_at", "/os_hash_value", "/self"])
def test_replace_answers_403_when_read_only(glance, image, path):
    response = glance.patch(f"/images/{image['id']}", [{"op": "replace", "path": path, "value": "x"}])
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/os_glance_thing", "/deleted", "/locations"])
def test_add_answers_403_when_reserved(glance, image, path):
    assert glance.patch(f"/images/{image['id']}", [{"op": "add", "path": path, "value": "x"}]).status_code == 403


def test_draft4_patch_works_like_tempest_sends_it_when_v20(glance, image):
    body = glance.patch(f"/images/{image['id']}", [{"replace": "/name", "value": "t"}], PATCH_V20).json()
    assert body["name"] == "t"
    body = glance.patch(f"/images/{image['id']}", [{"add": "/newprop", "value": "v"}], PATCH_V20).json()
    assert body["newprop"] == "v"


def test_draft4_add_answers_409_when_attribute_present(glance, image):
    assert glance.patch(f"/images/{image['id']}", [{"add": "/os_distro", "value": "v"}], PATCH_V20).status_code == 409
    assert glance.patch(f"/images/{image['id']}", [{"add": "/name", "value": "v"}], PATCH_V20).status_code == 409


def test_patch_answers_415_with_accept_patch_when_plain_json(glance, image):
    response = glance.patch(f"/images/{image['id']}", [], content_type="application/json")
    assert response.status_code == 415
    assert PATCH_V21 in response["Accept-Patch"]


def test_patch_is_all_or_nothing_when_one_change_fails(glance, image):
    ops = [{"op": "replace", "path": "/name", "value": "changed"}, {"op": "remove", "path": "/nothing"}]
    assert glance.patch(f"/images/{image['id']}", ops).status_code == 409
    assert glance.get(f"/images/{image['id']}").json()["name"] == "before"


def test_patch_unprotects_so_delete_works_when_protected_cleared(glance):
    image = glance.create(protected=True)
    glance.patch(f"/images/{image['id']}", [{"op": "replace", "path": "/protected", "value": False}])
    assert glance.delete(f"/images/{image['id']}").status_code == 204


def test_patch_public_answers_403_when_not_admin(glance, image):
    ops = [{"op": "replace", "path": "/visibility", "value": "public"}]
    assert glance.patch(f"/images/{image['id']}", ops).status_code == 403


def test_patch_owner_answers_403_when_not_admin(glance, image, other_project):
    ops = [{"op": "replace", "path": "/owner", "value": other_project.pk}]
    assert glance.patch(f"/images/{image['id']}", ops).status_code == 403


def test_patch_disk_format_answers_403_when_image_active(glance):
    image = glance.create_active()
    ops = [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    assert glance.patch(f"/images/{image['id']}", ops).status_code == 403


def test_patch_answers_403_when_reader_only(glance, reader, image):
    ops = [{"op": "replace", "path": "/name", "value": "r"}]
    assert reader.patch(f"/images/{image['id']}", ops).status_code == 403


def test_patch_answers_403_when_public_image_of_another_project(admin, glance):
    image = admin.create(visibility="public")
    ops = [{"op": "replace", "path": "/name", "value": "mine"}]
    assert glance.patch(f"/images/{image['id']}", ops).status_code == 403


def test_hidden_image_leaves_default_list_when_os_hidden_set(glance, image):
    glance.patch(f"/images/{image['id']}", [{"op": "replace", "path": "/os_hidden", "value": True}])
    assert image["id"] not in [i["id"] for i in glance.get("/images").json()["images"]]
    assert image["id"] in [i["id"] for i in glance.get("/images?os_hidden=true").json()["images"]]


@pytest.mark.parametrize(
    "ops",
    [
        {"op": "add"},
        [{"op": "add", "path": "/x"}],
        [{"op": "move", "path": "/x", "value": "y"}],
        [{"path": "/x", "value": "y"}],
        [{"op": "add", "path": "x", "value": "y"}],
        [{"op": "add", "path": "/a/b", "value": "y"}],
        [{"op": "add", "path": "//", "value": "y"}],
        [{"op": "add", "path": "/x~2", "value": "y"}],
        [{"op": "add", "path": 5, "value": "y"}],
        [{"op": "add", "path": "/x", "value": 5}],
        [{"op": "replace", "path": "/min_ram", "value": "big"}],
        [{"op": "replace", "path": "/min_ram", "value": -5}],
        [{"op": "replace", "path": "/name", "value": "n" * 300}],
        ["not-an-object"],
    ],
)
def test_patch_answers_400_when_body_malformed(glance, image, ops):
    response = glance.patch(f"/images/{image['id']}", ops)
    assert response.status_code == 400, response.content


def test_patch_answers_400_when_json_invalid(glance, image):
    assert glance.patch(f"/images/{image['id']}", b"{nope").status_code == 400


def test_patch_answers_404_when_image_unknown(glance):
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    assert glance.patch("/images/5b6f0a53-7d9b-4b7c-9a1e-3f3c2d1e0a99", ops).status_code == 404


def test_tags_put_and_delete_when_owner(glance, image):
    assert (
        glance.client.put(f"/image/v2/images/{image['id']}/tags/blue", HTTP_X_AUTH_TOKEN=glance.token).status_code
        == 204
    )
    assert glance.get(f"/images/{image['id']}").json()["tags"] == ["blue"]
    assert glance.delete(f"/images/{image['id']}/tags/blue").status_code == 204
    assert glance.delete(f"/images/{image['id']}/tags/blue").status_code == 404
    assert glance.get(f"/images/{image['id']}").json()["tags"] == []


def test_tag_put_answers_404_when_image_unknown(glance):
    url = "/image/v2/images/5b6f0a53-7d9b-4b7c-9a1e-3f3c2d1e0a99/tags/x"
    assert glance.client.put(url, HTTP_X_AUTH_TOKEN=glance.token).status_code == 404


def test_tag_element_paths_edit_tags_when_sdk_diffs_lists(glance):
    image = glance.create(tags=["a"])
    url = f"/images/{image['id']}"
    assert glance.patch(url, [{"op": "add", "path": "/tags/-", "value": "b"}]).json()["tags"] == ["a", "b"]
    assert glance.patch(url, [{"op": "replace", "path": "/tags/0", "value": "c"}]).json()["tags"] == ["b", "c"]
    assert glance.patch(url, [{"op": "remove", "path": "/tags/0"}]).json()["tags"] == ["c"]
    assert glance.patch(url, [{"op": "remove", "path": "/tags/5"}]).status_code == 409
    assert glance.patch(url, [{"op": "add", "path": "/tags/x", "value": "d"}]).status_code == 400
    assert glance.patch(url, [{"op": "add", "path": "/tags/0", "value": 5}]).status_code == 400
