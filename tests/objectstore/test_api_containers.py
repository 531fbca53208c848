"""Swift account and container requests through Django's test client."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [e.get("name", e.get("subdir")) for e in json.loads(response.content)]


@pytest.fixture
def filled(swift):
    """A container `c` holding a small tree of objects."""
    assert swift("PUT", "c").status_code == 201
    for name in ("a", "b/1", "b/2", "b/c/3", "d", "e/5"):
        assert swift("PUT", "c", name, data=name.encode()).status_code == 201
    return swift


def test_account_head_reports_usage_when_containers_hold_objects(filled):
    response = filled("HEAD")
    assert response.status_code == 204
    assert response["X-Account-Container-Count"] == "1"
    assert response["X-Account-Object-Count"] == "6"
    assert response["X-Account-Bytes-Used"] == str(sum(len(n) for n in ("a", "b/1", "b/2", "b/c/3", "d", "e/5")))
    assert response["X-Trans-Id"] and response["X-Openstack-Request-Id"] == response["X-Trans-Id"]


def test_account_get_lists_containers_in_each_format_when_asked(filled):
    filled("PUT", "z")
    as_json = filled("GET", query={"format": "json"})
    assert [(c["name"], c["count"]) for c in json.loads(as_json.content)] == [("c", 6), ("z", 0)]
    assert filled("GET").content == b"c\nz\n"
    root = ET.fromstring(filled("GET", query={"format": "xml"}).content)
    assert [e.findtext("name") for e in root.findall("container")] == ["c", "z"]
    assert filled("GET", HTTP_ACCEPT="application/json")["Content-Type"].startswith("application/json")


def test_account_get_answers_204_when_no_containers_plain(swift):
    assert swift("GET").status_code == 204
    assert swift("GET", query={"format": "json"}).content == b"[]"


def test_account_post_sets_and_removes_metadata_when_headers_sent(swift):
    assert swift("POST", X_ACCOUNT_META_COLOUR="red", X_ACCOUNT_META_SIZE="big").status_code == 204
    assert swift("HEAD")["X-Account-Meta-Colour"] == "red"
    swift("POST", X_REMOVE_ACCOUNT_META_COLOUR="x")
    response = swift("HEAD")
    assert "X-Account-Meta-Colour" not in response and response["X-Account-Meta-Size"] == "big"


def test_container_put_answers_201_then_202_when_created_twice(swift):
    assert swift("PUT", "box", X_CONTAINER_META_A="1").status_code == 201
    assert swift("PUT", "box", X_CONTAINER_META_B="2").status_code == 202
    head = swift("HEAD", "box")
    assert head.status_code == 204
    assert head["X-Container-Meta-A"] == "1" and head["X-Container-Meta-B"] == "2"
    assert head["X-Container-Object-Count"] == "0" and head["X-Container-Bytes-Used"] == "0"


def test_container_post_updates_metadata_and_acl_when_container_exists(swift):
    swift("PUT", "box")
    assert swift("POST", "box", X_CONTAINER_META_A="1", X_CONTAINER_READ=".r:*").status_code == 204
    head = swift("HEAD", "box")
    assert head["X-Container-Meta-A"] == "1" and head["X-Container-Read"] == ".r:*"
    assert swift("POST", "nope", X_CONTAINER_META_A="1").status_code == 404


def test_container_delete_answers_409_when_not_empty_then_204(filled):
    response = filled("DELETE", "c")
    assert response.status_code == 409 and b"Conflict" in response.content
    for name in ("a", "b/1", "b/2", "b/c/3", "d", "e/5"):
        assert filled("DELETE", "c", name).status_code == 204
    assert filled("DELETE", "c").status_code == 204
    assert filled("HEAD", "c").status_code == 404
    assert filled("DELETE", "c").status_code == 404


def test_container_listing_rolls_up_subdirs_when_delimiter_given(filled):
    assert names(filled("GET", "c", query={"format": "json", "delimiter": "/"})) == ["a", "b/", "d", "e/"]
    assert names(filled("GET", "c", query={"format": "json", "delimiter": "/", "prefix": "b/"})) == [
        "b/1",
        "b/2",
        "b/c/",
    ]
    got = names(filled("GET", "c", query={"format": "json", "delimiter": "/", "reverse": "true"}))
    assert got == ["e/", "d", "b/", "a"]
    assert filled("GET", "c", query={"delimiter": "/", "marker": "b/"}).content == b"d\ne/\n"
    root = ET.fromstring(filled("GET", "c", query={"format": "xml", "delimiter": "/"}).content)
    assert [s.get("name") for s in root.findall("subdir")] == ["b/", "e/"]


def test_container_listing_pages_when_marker_limit_end_marker_given(filled):
    assert names(filled("GET", "c", query={"format": "json", "limit": "2"})) == ["a", "b/1"]
    assert names(filled("GET", "c", query={"format": "json", "limit": "2", "marker": "b/1"})) == ["b/2", "b/c/3"]
    assert names(filled("GET", "c", query={"format": "json", "end_marker": "b/2"})) == ["a", "b/1"]
    assert names(filled("GET", "c", query={"format": "json", "prefix": "b/"})) == ["b/1", "b/2", "b/c/3"]
    assert names(filled("GET", "c", query={"format": "json", "reverse": "1", "marker": "b/2"})) == ["b/1", "a"]
    assert filled("GET", "c", query={"marker": "zzz"}).status_code == 204
    entry = json.loads(filled("GET", "c", query={"format": "json", "prefix": "d"}).content)[0]
    assert set(entry) == {"name", "hash", "bytes", "content_type", "last_modified"}


@pytest.mark.parametrize(
    ("query", "status"),
    # as Swift's proxy: a limit that is not a number is ignored, a NUL in a marker is just a character
    [({"limit": "abc"}, 200), ({"limit": "-1"}, 200), ({"limit": "10001"}, 412), ({"marker": "a\x00b"}, 200)],
)
def test_container_listing_answers_swift_status_when_params_odd(filled, query, status):
    assert filled("GET", "c", query=query).status_code == status


def test_container_put_rejects_name_when_longer_than_256_bytes(swift):
    assert swift("PUT", "x" * 257).status_code == 400
    assert swift("PUT", "é" * 128).status_code == 201


def test_container_metadata_rejected_when_limits_exceeded(swift):
    assert swift("PUT", "c", **{"X_CONTAINER_META_" + "N" * 129: "v"}).status_code == 400
    assert swift("PUT", "c", X_CONTAINER_META_A="v" * 257).status_code == 400
    many = {f"X_CONTAINER_META_K{i}": "v" for i in range(91)}
    assert swift("PUT", "c", **many).status_code == 400
    big = {f"X_CONTAINER_META_K{i}": "v" * 250 for i in range(17)}
    assert swift("PUT", "c", **big).status_code == 400
    assert swift("PUT", "c", X_HUGE="h" * 8193).status_code == 400
    assert swift("HEAD", "c").status_code == 404


def test_swift_answers_401_when_token_missing_or_bad(swift):
    swift.token = ""
    assert swift("GET").status_code == 401
    response = swift("GET", "c", HTTP_X_AUTH_TOKEN="garbage")
    assert response.status_code == 401 and b"Unauthorized" in response.content


def test_reader_token_reads_but_cannot_write_when_reader_only(swift_for, swift_user, swift_project, swift):
    swift("PUT", "c")
    reader = swift_for(swift_user, swift_project, roles=("reader",))
    assert reader("HEAD", "c").status_code == 204
    assert reader("PUT", "d").status_code == 403
    assert reader("PUT", "c", "o", data=b"x").status_code == 403
    assert reader("POST", X_ACCOUNT_META_A="1").status_code == 403


def test_admin_reaches_other_account_when_admin_role(swift_for, admin_user, swift, swift_project):
    from identity.models import Project

    swift("PUT", "c")
    admin = swift_for(admin_user, Project.objects.get(name="admin"), roles=("admin", "member"))
    admin.account = f"AUTH_{swift_project.pk}"
    assert admin("HEAD", "c").status_code == 204
    admin.account = "AUTH_doesnotexist"
    assert admin("HEAD").status_code == 404


def test_info_advertises_limits_when_fetched_without_token(client):
    body = json.loads(client.get("/info").content)
    swift = body["swift"]
    assert swift["max_object_name_length"] == 1024 and swift["container_listing_limit"] == 10000
    assert swift["max_meta_overall_size"] == 4096 and swift["strict_cors_mode"] is True
    assert {"slo", "tempurl", "bulk_delete", "container_quotas", "account_quotas"} <= set(body)
    assert "versioned_writes" not in body and "staticweb" not in body and "symlink" not in body
