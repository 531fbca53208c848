"""Nova's image proxy (`/compute/v2.1/images...`, 2.1-2.35; metadata to 2.38) over the real image
service: shapes checked with tempest's schemas, Glance's visibility for every caller, filters,
paging, metadata semantics, and 400/403/404 instead of 500s."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compute.image.models import Image
from tests.compute.helpers import Nova, fault
from tests.compute.tempest_schemas import assert_valid

OLD = "2.1"


def glance_call(nova: Nova, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
    handler = getattr(nova.client, method)
    with nova.capture(execute=True):
        if body is None:
            return handler(f"/image/v2{path}", HTTP_X_AUTH_TOKEN=nova.token)
        data = body if isinstance(body, bytes) else json.dumps(body)
        return handler(f"/image/v2{path}", data, content_type=content_type, HTTP_X_AUTH_TOKEN=nova.token)


def make_image(nova: Nova, data: bytes | None = b"x" * 1024, **attrs: Any) -> str:
    """A private raw/bare image of the client's project made through Glance (active when `data`)."""
    body = {"disk_format": "raw", "container_format": "bare", "visibility": "private", **attrs}
    created = glance_call(nova, "post", "/images", body)
    assert created.status_code == 201, created.content
    image_id = created.json()["id"]
    if data is not None:
        uploaded = glance_call(nova, "put", f"/images/{image_id}/file", data, "application/octet-stream")
        assert uploaded.status_code == 204, uploaded.content
    return image_id


@pytest.fixture
def mine(nova) -> str:
    """An active private image of `project` that looks like a snapshot of a server."""
    return make_image(nova, name="snap-a", instance_uuid="1f0c5b1e-0000-4000-8000-000000000001", image_type="snapshot")


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["images"]]


@pytest.mark.parametrize("version", [OLD, "2.35"])
def test_responses_match_tempest_schemas_when_at_version(nova, image, mine, version):
    queued = make_image(nova, data=None, name=None)
    assert_valid(nova.get("/images", version=version), "images", "list_images", version)
    assert_valid(nova.get("/images/detail", version=version), "images", "list_images_details", version)
    for image_id in (image, mine, queued):
        assert_valid(nova.get(f"/images/{image_id}", version=version), "images", "get_image", version)
    assert_valid(nova.get(f"/images/{mine}/metadata", version=version), "images", "image_metadata", version)
    response = nova.post(f"/images/{mine}/metadata", {"metadata": {"k": "v"}}, version=version)
    assert_valid(response, "images", "image_metadata", version)
    response = nova.put(f"/images/{mine}/metadata/k", {"meta": {"k": "w"}}, version=version)
    assert_valid(response, "images", "image_meta_item", version)
    assert_valid(nova.get(f"/images/{mine}/metadata/k", version=version), "images", "image_meta_item", version)
    assert_valid(nova.delete(f"/images/{queued}", version=version), "images", "delete", version)


def test_show_maps_glance_image_to_nova_shape_when_image_is_active_snapshot(nova, mine):
    body = nova.get(f"/images/{mine}", version=OLD).json()["image"]
    row = Image.objects.get(pk=mine)
    assert (body["id"], body["name"], body["status"], body["progress"]) == (mine, "snap-a", "ACTIVE", 100)
    assert (body["minDisk"], body["minRam"], body["OS-EXT-IMG-SIZE:size"]) == (0, 0, 1024)
    assert body["metadata"] == {"instance_uuid": "1f0c5b1e-0000-4000-8000-000000000001", "image_type": "snapshot"}
    assert body["server"]["id"] == "1f0c5b1e-0000-4000-8000-000000000001"
    assert body["server"]["links"][0]["href"].endswith("/compute/v2.1/servers/1f0c5b1e-0000-4000-8000-000000000001")
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels["self"].endswith(f"/compute/v2.1/images/{mine}")
    assert rels["bookmark"].endswith(f"/compute/images/{mine}")
    assert rels["alternate"].endswith(f"/image/images/{mine}")
    assert body["created"] == row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("status", "shown", "progress"),
    [("queued", "SAVING", 25), ("saving", "SAVING", 50), ("killed", "ERROR", 0), ("deactivated", "UNKNOWN", 0)],
)
def test_show_maps_every_glance_status_when_image_is_in_it(nova, status, shown, progress):
    image_id = make_image(nova, data=None, auto_disk_config="False")
    Image.objects.filter(pk=image_id).update(status=status)
    image = nova.get(f"/images/{image_id}", version=OLD).json()["image"]
    assert (image["status"], image["progress"], image["OS-DCF:diskConfig"]) == (shown, progress, "MANUAL")
    assert "server" not in image and image["OS-EXT-IMG-SIZE:size"] is None


def test_other_projects_private_image_is_404_everywhere_when_caller_cannot_see_it(nova, other_nova, mine):
    assert mine not in ids(other_nova.get("/images/detail", version=OLD))
    for path in (f"/images/{mine}", f"/images/{mine}/metadata", f"/images/{mine}/metadata/image_type"):
        response = other_nova.get(path, version=OLD)
        assert response.status_code == 404 and "itemNotFound" in response.json(), path
    assert other_nova.delete(f"/images/{mine}", version=OLD).status_code == 404
    assert other_nova.post(f"/images/{mine}/metadata", {"metadata": {"a": "b"}}, version=OLD).status_code == 404
    assert other_nova.put(f"/images/{mine}/metadata/a", {"meta": {"a": "b"}}, version=OLD).status_code == 404
    assert other_nova.delete(f"/images/{mine}/metadata/image_type", version=OLD).status_code == 404
    assert Image.objects.get(pk=mine).properties.count() == 2


def test_public_image_is_visible_but_403_to_change_when_caller_does_not_own_it(nova, image):
    assert image in ids(nova.get("/images", version=OLD))
    assert nova.get(f"/images/{image}", version=OLD).status_code == 200
    assert nova.delete(f"/images/{image}", version=OLD).status_code == 403
    assert nova.post(f"/images/{image}/metadata", {"metadata": {"a": "b"}}, version=OLD).status_code == 403
    assert nova.delete(f"/images/{image}/metadata/os_distro", version=OLD).status_code == 403
    assert Image.objects.filter(pk=image).exists()


def test_shared_image_follows_glance_membership_when_listing_and_showing(nova, other_nova, other_project):
    shared = make_image(nova, visibility="shared", name="shared-one")
    added = glance_call(nova, "post", f"/images/{shared}/members", {"member": str(other_project.pk)})
    assert added.status_code == 200, added.content
    # Pending: Glance shows it by id but does not list it; accepted: listed too.
    assert other_nova.get(f"/images/{shared}", version=OLD).status_code == 200
    assert shared not in ids(other_nova.get("/images", version=OLD))
    accepted = glance_call(other_nova, "put", f"/images/{shared}/members/{other_project.pk}", {"status": "accepted"})
    assert accepted.status_code == 200, accepted.content
    assert shared in ids(other_nova.get("/images", version=OLD))
    assert other_nova.delete(f"/images/{shared}", version=OLD).status_code == 403


def test_list_filters_select_images_when_given_nova_filter_names(nova, image, mine):
    plain = make_image(nova, name="plain", min_ram=512, min_disk=3)
    queued = make_image(nova, data=None, name="plain")
    server = "1f0c5b1e-0000-4000-8000-000000000001"

    def listed(query: str) -> set[str]:
        return set(ids(nova.get(f"/images/detail?{query}", version=OLD)))

    assert listed("name=plain") == {plain, queued}
    assert listed("name=plain&status=ACTIVE") == {plain}
    assert listed("status=SAVING") == set()  # Nova passes `saving`; the queued image is `queued`
    assert listed("type=snapshot") == {mine}
    assert listed(f"server={server}") == {mine}
    assert listed(f"server=http://h/compute/v2.1/servers/{server}") == {mine}
    assert listed("minRam=512") == {plain} and listed("minDisk=4") == set()
    assert listed("property-image_type=snapshot") == {mine}
    Image.objects.filter(pk=plain).update(updated_at="2030-01-01T00:00:00Z")
    assert listed("changes-since=2029-12-31T00:00:00Z") == {plain}
    assert image in listed("") and {mine, plain, queued} <= listed("")


@pytest.mark.parametrize(
    "query",
    ["status=bogus", "minRam=x", "minDisk=-1", "changes-since=yesterday", "limit=-1", "limit=abc", "marker=nope"],
)
def test_list_is_400_when_a_filter_or_paging_value_is_bad(nova, query):
    for path in ("/images", "/images/detail"):
        response = nova.get(f"{path}?{query}", version=OLD)
        assert response.status_code == 400 and "badRequest" in response.json(), (query, response.content)


def test_list_pages_with_images_links_when_limit_is_smaller_than_the_list(nova, image):
    made = {make_image(nova, name=f"page-{n}") for n in range(3)}
    first = nova.get("/images/detail?limit=2", version=OLD).json()
    assert len(first["images"]) == 2
    [link] = first["images_links"]
    assert link["rel"] == "next" and f"marker={first['images'][-1]['id']}" in link["href"]
    query = link["href"].split("?", 1)[1]
    second = nova.get(f"/images/detail?{query}", version=OLD).json()
    seen = [i["id"] for i in first["images"] + second["images"]]
    assert "images_links" not in second and len(seen) == len(set(seen)) == 4
    assert set(seen) == made | {image}
    created = [i["created"] for i in first["images"] + second["images"]]
    assert created == sorted(created, reverse=True)
    assert len(nova.get("/images?limit=1", version=OLD).json()["images"]) == 1


def test_proxy_is_404_from_2_36_and_metadata_from_2_39_when_version_is_newer(nova, mine):
    for path in ("/images", "/images/detail", f"/images/{mine}"):
        assert nova.get(path, version="2.35").status_code == 200
        response = nova.get(path, version="2.36")
        assert response.status_code == 404 and "itemNotFound" in response.json()
    assert nova.delete(f"/images/{mine}", version="2.36").status_code == 404
    assert nova.get(f"/images/{mine}/metadata", version="2.38").status_code == 200
    assert nova.get(f"/images/{mine}/metadata", version="2.39").status_code == 404
    assert nova.get(f"/images/{mine}/metadata/image_type", version="2.39").status_code == 404
    assert Image.objects.filter(pk=mine).exists()


def test_delete_removes_the_image_when_owner_deletes_it(nova, mine, reader_nova):
    assert reader_nova.delete(f"/images/{mine}", version=OLD).status_code == 403
    assert nova.delete(f"/images/{mine}", version=OLD).status_code == 204
    assert nova.get(f"/images/{mine}", version=OLD).status_code == 404
    assert not Image.objects.filter(pk=mine).exists()


@pytest.mark.parametrize("image_id", ["", "-1", "invalid", "a" * 37, "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"])
def test_delete_and_show_are_404_when_image_id_is_malformed(nova, image_id):
    assert nova.delete(f"/images/{image_id}", version=OLD).status_code == 404
    if image_id:
        assert nova.get(f"/images/{image_id}", version=OLD).status_code == 404


def test_protected_image_is_403_when_owner_deletes_it(nova):
    protected = make_image(nova, protected=True)
    response = nova.delete(f"/images/{protected}", version=OLD)
    assert response.status_code == 403 and "protected" in fault(response)["message"]


def test_metadata_merges_replaces_and_edits_items_when_owner_changes_it(nova, mine):
    base = {"instance_uuid": "1f0c5b1e-0000-4000-8000-000000000001", "image_type": "snapshot"}
    response = nova.post(f"/images/{mine}/metadata", {"metadata": {"os_version": "1", "os_distro": "2"}}, version=OLD)
    assert response.json()["metadata"] == {**base, "os_version": "1", "os_distro": "2"}
    response = nova.put(f"/images/{mine}/metadata", {"metadata": {"os_version": "2", "arch": "3"}}, version=OLD)
    assert response.json()["metadata"] == {"os_version": "2", "arch": "3"}
    assert nova.get(f"/images/{mine}", version=OLD).json()["image"]["metadata"] == {"os_version": "2", "arch": "3"}
    assert nova.put(f"/images/{mine}/metadata/arch", {"meta": {"arch": "4"}}, version=OLD).json() == {
        "meta": {"arch": "4"}
    }
    assert nova.get(f"/images/{mine}/metadata/arch", version=OLD).json() == {"meta": {"arch": "4"}}
    assert nova.delete(f"/images/{mine}/metadata/arch", version=OLD).status_code == 204
    assert nova.get(f"/images/{mine}/metadata", version=OLD).json() == {"metadata": {"os_version": "2"}}
    missing = nova.get(f"/images/{mine}/metadata/arch", version=OLD)
    assert missing.status_code == 404 and fault(missing)["message"] == "Invalid metadata key"
    assert nova.delete(f"/images/{mine}/metadata/arch", version=OLD).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "", {"metadata": {"": "x"}}, 400),
        ("post", "", {"metadata": {"a" * 256: "b"}}, 400),
        ("post", "", {"metadata": {"k": "v" * 256}}, 400),
        ("post", "", {"metadata": {"k": 1}}, 400),
        ("post", "", {"metadata": []}, 400),
        ("post", "", {"meta": {"k": "v"}}, 400),
        ("put", "", {"metadata": {"k": "v"}, "x": 1}, 400),
        ("put", "", [], 400),
        ("put", "/k", {"meta": {"j": "v"}}, 400),
        ("put", "/k", {"meta": {"k": "v", "j": "w"}}, 400),
        ("put", "/k", {"metadata": {"k": "v"}}, 400),
        ("post", "", {"metadata": {"status": "active"}}, 403),
        ("post", "", {"metadata": {"name": "renamed"}}, 403),
        ("post", "", {"metadata": {f"k{n}": "v" for n in range(129)}}, 403),
    ],
)
def test_metadata_change_is_refused_without_500_when_body_is_bad(nova, mine, method, path, body, status):
    response = getattr(nova, method)(f"/images/{mine}/metadata{path}", body, version=OLD)
    assert response.status_code == status, response.content
    assert Image.objects.get(pk=mine).name == "snap-a"
    assert Image.objects.get(pk=mine).properties.count() == 2


def test_metadata_is_404_when_image_does_not_exist(nova):
    missing = "9d0f1d1e-0000-4000-8000-000000000009"
    assert nova.get(f"/images/{missing}/metadata", version=OLD).status_code == 404
    assert nova.post(f"/images/{missing}/metadata", {"metadata": {"a": "b"}}, version=OLD).status_code == 404
    assert nova.put(f"/images/{missing}/metadata", {"metadata": {"a": "b"}}, version=OLD).status_code == 404
    assert nova.put(f"/images/{missing}/metadata/a", {"meta": {"a": "b"}}, version=OLD).status_code == 404
    assert nova.get(f"/images/{missing}/metadata/a", version=OLD).status_code == 404
    assert nova.delete(f"/images/{missing}/metadata/a", version=OLD).status_code == 404


def test_glance_image_tasks_is_an_empty_list_when_caller_can_see_the_image(nova, other_nova, mine):
    response = glance_call(nova, "get", f"/images/{mine}/tasks")
    assert response.status_code == 200 and response.json() == {"tasks": []}
    assert glance_call(other_nova, "get", f"/images/{mine}/tasks").status_code == 404
