"""Glance v2 images through the API: versions, create, show, list, delete, schemas, errors."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from compute.image.models import Image

pytestmark = pytest.mark.django_db

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CORE_KEYS = {
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "created_at",
    "updated_at",
    "tags",
    "min_ram",
    "min_disk",
    "self",
    "file",
    "schema",
}


@pytest.mark.parametrize("path", ["/image", "/image/", "/image/v2", "/image/v2/"])
def test_versions_answers_300_without_token_when_discovering(path):
    response = APIClient().get(path)
    assert response.status_code == 300
    versions = response.json()["versions"]
    assert versions[0]["id"] == "v2.7" and versions[0]["status"] == "CURRENT"
    assert all(v["links"][0]["href"].endswith("/image/v2/") for v in versions)
    assert {v["status"] for v in versions[1:]} == {"SUPPORTED"}


def test_images_answer_401_in_glance_shape_when_no_token():
    response = APIClient().get("/image/v2/images")
    assert response.status_code == 401
    assert response.json()["code"] == 401 and "title" in response.json()


def test_create_returns_queued_image_with_glance_shape_when_minimal(glance, project):
    response = glance.post("/images", {"name": "cirros", "disk_format": "raw", "container_format": "bare"})
    assert response.status_code == 201
    image = response.json()
    assert set(image) >= CORE_KEYS
    assert image["status"] == "queued" and image["visibility"] == "shared" and image["owner"] == project.pk
    assert image["size"] is None and image["checksum"] is None and image["os_hash_value"] is None
    assert image["self"] == f"/v2/images/{image['id']}" and image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert ISO_Z.match(image["created_at"]) and ISO_Z.match(image["updated_at"])
    assert response["Location"].endswith(f"/image/v2/images/{image['id']}")


def test_create_keeps_extra_properties_tags_and_id_when_given(glance):
    wanted = "5b6f0a53-7d9b-4b7c-9a1e-3f3c2d1e0a99"
    image = glance.create(id=wanted, name="x", tags=["a", "b", "a"], os_distro="debian", hw_disk_bus="virtio")
    assert image["id"] == wanted and image["tags"] == ["a", "b"]
    assert image["os_distro"] == "debian" and image["hw_disk_bus"] == "virtio"
    assert glance.get(f"/images/{wanted}").json()["os_distro"] == "debian"


def test_create_answers_409_when_id_exists(glance):
    image = glance.create()
    assert glance.post("/images", {"id": image["id"]}).status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"disk_format": "floppy"}, 400),
        ({"container_format": "tarball"}, 400),
        ({"name": "x" * 256}, 400),
        ({"min_ram": -1}, 400),
        ({"min_disk": "1"}, 400),
        ({"min_disk": 2**40}, 400),
        ({"protected": "yes"}, 400),
        ({"visibility": "everyone"}, 400),
        ({"tags": "a"}, 400),
        ({"custom": 5}, 400),
        ({"id": "not-a-uuid"}, 400),
        ({"status": "active"}, 403),
        ({"checksum": "0" * 32}, 403),
        ({"size": 5}, 403),
        ({"self": "/x"}, 403),
        ({"locations": "x"}, 403),
        ({"deleted": "true"}, 403),
        ({"os_glance_foo": "bar"}, 403),
        ({"x" * 256: "v"}, 400),
        ({"name": "a\u0000b"}, 400),
    ],
)
def test_create_refuses_bad_attributes_when_invalid(glance, body, status):
    response = glance.post("/images", body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == status


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"text"', "{bad json", "3"])
def test_create_answers_400_when_body_is_not_an_object(glance, body):
    response = glance.client.post(
        "/image/v2/images", body, content_type="application/json", HTTP_X_AUTH_TOKEN=glance.token
    )
    assert response.status_code == 400


def test_create_public_answers_403_when_not_admin(glance):
    assert glance.post("/images", {"visibility": "public"}).status_code == 403


def test_create_public_succeeds_when_admin(admin):
    assert admin.create(visibility="public")["visibility"] == "public"


def test_create_answers_403_when_reader_only(reader):
    assert reader.post("/images", {"name": "r"}).status_code == 403


def test_create_for_another_owner_answers_403_when_not_admin(glance, other_project):
    assert glance.post("/images", {"owner": other_project.pk}).status_code == 403


def test_create_for_another_owner_succeeds_when_admin(admin, project):
    assert admin.create(owner=project.pk)["owner"] == project.pk


def test_show_answers_404_when_id_unknown_or_malformed(glance):
    assert glance.get("/images/5b6f0a53-7d9b-4b7c-9a1e-3f3c2d1e0a99").status_code == 404
    assert glance.get("/images/cirros").status_code == 404
    assert glance.get("/images/%00").status_code in (400, 404)


def test_show_and_delete_answer_404_in_glance_shape_when_image_id_empty(glance):
    glance.create()
    for response in (glance.get("/images/"), glance.delete("/images/"), glance.get("/no-such-thing")):
        assert response.status_code == 404
        assert response.json()["message"] == "The resource could not be found."
    assert glance.get("/images").status_code == 200


def test_show_accepts_upper_case_id_when_given(glance):
    image = glance.create()
    assert glance.get(f"/images/{image['id'].upper()}").json()["id"] == image["id"]


def test_delete_removes_image_when_owner(glance):
    image = glance.create()
    assert glance.delete(f"/images/{image['id']}").status_code == 204
    assert glance.get(f"/images/{image['id']}").status_code == 404
    assert glance.delete(f"/images/{image['id']}").status_code == 404


def test_delete_answers_403_when_protected(glance):
    image = glance.create(protected=True)
    assert glance.delete(f"/images/{image['id']}").status_code == 403
    assert Image.objects.filter(pk=image["id"]).exists()


def test_delete_answers_403_when_reader_only(glance, reader):
    image = glance.create()
    assert reader.delete(f"/images/{image['id']}").status_code == 403


@pytest.mark.parametrize("name", ["image", "images", "member", "members"])
def test_schemas_are_served_when_asked(glance, name):
    response = glance.get(f"/schemas/{name}")
    assert response.status_code == 200 and response.json()["name"] == name


def test_image_schema_is_permissive_when_fetched(glance):
    schema = glance.get("/schemas/image").json()
    assert schema["additionalProperties"] == {"type": "string"}
    assert "raw" in schema["properties"]["disk_format"]["enum"]
    assert schema["properties"]["status"]["readOnly"] is True


def test_image_view_matches_served_schema_when_rendered(glance):
    import jsonschema

    schema = glance.get("/schemas/images").json()
    glance.create_active(b"x" * 100, name="a", os_distro="cirros")
    glance.create(name=None)
    jsonschema.validate(glance.get("/images").json(), schema)
    member_schema = glance.get("/schemas/member").json()
    jsonschema.validate(
        {
            "member_id": "p",
            "image_id": "5b6f0a53-7d9b-4b7c-9a1e-3f3c2d1e0a99",
            "status": "pending",
            "created_at": "x",
            "updated_at": "x",
            "schema": "/v2/schemas/member",
        },
        member_schema,
    )


def test_import_info_lists_no_methods_when_asked(glance):
    assert glance.get("/info/import").json()["import-methods"]["value"] == []
