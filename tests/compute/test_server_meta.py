"""Server metadata, tags, addresses and updates (rename, description)."""

from __future__ import annotations

import pytest

from tests.compute.helpers import fault

pytestmark = pytest.mark.django_db


def test_metadata_merges_replaces_and_deletes_items_when_asked(nova, booted):
    base = f"/servers/{booted['id']}/metadata"
    assert nova.post(base, {"metadata": {"a": "1", "b": "2"}}).json() == {"metadata": {"a": "1", "b": "2"}}
    assert nova.post(base, {"metadata": {"b": "3"}}).json()["metadata"] == {"a": "1", "b": "3"}
    assert nova.put(base, {"metadata": {"c": "4"}}).json()["metadata"] == {"c": "4"}
    assert nova.put(f"{base}/d", {"meta": {"d": "5"}}).json() == {"meta": {"d": "5"}}
    assert nova.get(f"{base}/d").json() == {"meta": {"d": "5"}}
    assert nova.delete(f"{base}/d").status_code == 204
    assert nova.get(f"{base}/d").status_code == 404
    assert nova.delete(f"{base}/d").status_code == 404
    assert nova.get(base).json() == {"metadata": {"c": "4"}}


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/metadata/k", {"meta": {"other": "v"}}, 400),
        ("/metadata/k", {"meta": {"k": "v", "j": "w"}}, 400),
        ("/metadata/k", {"meta": {"k": 5}}, 400),
        ("/metadata", {"metadata": {"k": "v" * 256}}, 400),
        ("/metadata", {"metadata": ["k"]}, 400),
        ("/metadata", {"meta": {}}, 400),
        ("/metadata", {"metadata": {f"k{i}": "v" for i in range(129)}}, 403),
    ],
)
def test_metadata_refuses_bad_bodies(nova, booted, path, body, code):
    assert nova.put(f"/servers/{booted['id']}{path}", body).status_code == code


def test_metadata_change_is_409_when_server_building(nova, image, flavors, cluster, queued_jobs):
    created = nova.boot(image, "1")
    response = nova.post(f"/servers/{created['id']}/metadata", {"metadata": {"a": "b"}})
    assert response.status_code == 409 and "vm_state building" in fault(response)["message"]


def test_tags_add_replace_check_and_delete_when_226(nova, booted):
    base = f"/servers/{booted['id']}/tags"
    created = nova.put(f"{base}/blue")
    assert created.status_code == 201 and created["Location"].endswith(f"{base}/blue")
    assert nova.put(f"{base}/blue").status_code == 204
    assert nova.get(f"{base}/blue").status_code == 204
    assert nova.get(f"{base}/red").status_code == 404
    assert nova.put(base, {"tags": ["b", "a", "a"]}).json() == {"tags": ["a", "b"]}
    assert nova.show(booted["id"])["tags"] == ["a", "b"]
    assert nova.delete(f"{base}/a").status_code == 204
    assert nova.delete(f"{base}/a").status_code == 404
    assert nova.delete(base).status_code == 204
    assert nova.get(base).json() == {"tags": []}


def test_tags_are_404_before_226(nova, booted):
    assert nova.get(f"/servers/{booted['id']}/tags", version="2.25").status_code == 404
    assert "tags" not in nova.get(f"/servers/{booted['id']}", version="2.25").json()["server"]


@pytest.mark.parametrize("tags", [["a,b"], ["x" * 61], [""], [1], [f"t{i}" for i in range(51)], "a"])
def test_tags_refuse_invalid_lists_with_400(nova, booted, tags):
    assert nova.put(f"/servers/{booted['id']}/tags", {"tags": tags}).status_code == 400


def test_ips_lists_addresses_by_network_without_extension_fields(nova, booted):
    body = nova.get(f"/servers/{booted['id']}/ips").json()
    (address,) = body["addresses"]["private"]
    assert set(address) == {"version", "addr"}
    assert nova.get(f"/servers/{booted['id']}/ips/private").json() == {"private": [address]}
    assert nova.get(f"/servers/{booted['id']}/ips/elsewhere").status_code == 404


def test_update_renames_and_describes_server_when_valid(nova, booted):
    response = nova.put(f"/servers/{booted['id']}", {"server": {"name": "renamed", "description": "d"}})
    assert response.status_code == 200
    body = response.json()["server"]
    assert (body["name"], body["description"]) == ("renamed", "d")
    assert "OS-EXT-STS:vm_state" not in body
    assert nova.show(booted["id"])["name"] == "renamed"


@pytest.mark.parametrize(
    "server",
    [{"name": ""}, {"name": 5}, {"description": "x" * 256}, {"accessIPv4": "nope"}, {"flavorRef": "2"}],
)
def test_update_refuses_invalid_fields_with_400(nova, booted, server):
    assert nova.put(f"/servers/{booted['id']}", {"server": server}).status_code == 400


def test_update_refuses_description_before_219(nova, booted):
    assert nova.put(f"/servers/{booted['id']}", {"server": {"description": "d"}}, version="2.18").status_code == 400
