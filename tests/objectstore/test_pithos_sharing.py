"""Pithos sharing with users and groups, `?shared` listings, account groups and public links."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import ProjectFactory, UserFactory, assign

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def owner(swift):
    """The owner's client with `box/doc.txt` and `box/private`."""
    swift("PUT", "box")
    swift("PUT", "box", "doc.txt", data=b"shared bytes")
    swift("PUT", "box", "private", data=b"secret")
    return swift


@pytest.fixture
def friend(swift_for, owner):
    """Another project's user, `friend`, with a client on the OWNER's account."""
    user = UserFactory(name="friend")
    project = ProjectFactory()
    assign(user, project, "member", "reader")
    client = swift_for(user, project, account=owner.account)
    client.own = swift_for(user, project)
    return client


def test_sharing_read_lets_user_get_but_not_write_when_granted_read(owner, friend):
    assert friend("GET", "box", "doc.txt").status_code == 403
    assert owner("POST", "box", "doc.txt", X_OBJECT_SHARING="read=friend").status_code == 202
    assert owner("HEAD", "box", "doc.txt")["X-Object-Sharing"] == "read=friend"
    got = friend("GET", "box", "doc.txt")
    assert got.status_code == 200 and body(got) == b"shared bytes"
    assert friend("GET", "box", "doc.txt", query={"hashmap": ""}).status_code == 200
    assert friend("PUT", "box", "doc.txt", data=b"overwrite").status_code == 403
    assert friend("GET", "box", "private").status_code == 403
    assert friend("GET", "box").status_code == 403
    assert friend("DELETE", "box", "doc.txt").status_code == 403


def test_sharing_write_lets_user_overwrite_charged_to_owner_when_granted_write(owner, friend):
    owner("POST", "box", "doc.txt", X_OBJECT_SHARING="write=friend")
    assert friend("PUT", "box", "doc.txt", data=b"new").status_code == 201
    assert body(owner("GET", "box", "doc.txt")) == b"new"
    assert friend("POST", "box", "doc.txt", X_OBJECT_SHARING="read=friend").status_code == 403


def test_sharing_keeps_metadata_when_post_sets_only_sharing(owner, friend):
    owner("POST", "box", "doc.txt", X_OBJECT_META_COLOR="blue")
    owner("POST", "box", "doc.txt", X_OBJECT_SHARING="read=friend", X_OBJECT_PUBLIC="true")
    head = owner("HEAD", "box", "doc.txt")
    assert head["X-Object-Meta-Color"] == "blue" and head["X-Object-Public"].startswith("http://testserver/public/")


def test_groups_grant_access_and_show_on_head_when_set_on_account(owner, friend):
    assert owner("POST", X_ACCOUNT_GROUP_TEAM="friend").status_code == 204
    assert owner("HEAD")["X-Account-Group-team"] == "friend"
    assert owner("PUT", "box", "g", data=b"g", X_OBJECT_SHARING="read=group:team").status_code == 201
    assert body(friend("GET", "box", "g")) == b"g"
    owner("POST", X_ACCOUNT_GROUP_TEAM="")
    assert friend("GET", "box", "g").status_code == 403


@pytest.mark.parametrize(
    "value",
    ["read", "read=nobody-here", "read=group:nogroup", "copy=friend", "read=friend;read=friend", "read=group:BAD!"],
)
def test_sharing_answers_400_and_writes_nothing_when_header_invalid(owner, friend, value):
    assert owner("POST", "box", "doc.txt", X_OBJECT_SHARING=value).status_code == 400
    assert owner("PUT", "box", "new", data=b"x", X_OBJECT_SHARING=value).status_code == 400
    assert owner("HEAD", "box", "new").status_code == 404


def test_groups_answer_400_when_member_unknown_or_name_invalid(owner):
    assert owner("POST", X_ACCOUNT_GROUP_TEAM="ghost").status_code == 400
    assert owner("POST", **{"HTTP_X_ACCOUNT_GROUP_": "friend"}).status_code == 400


def test_shared_listings_show_accounts_containers_objects_when_shared(owner, friend, swift_project):
    owner("POST", "box", "doc.txt", X_OBJECT_SHARING="read=friend")
    mine = friend.own("GET", query={"shared": "", "format": "json"})
    assert json.loads(mine.content) == [{"name": owner.account, "project": swift_project.name}]
    containers = json.loads(friend("GET", query={"shared": "", "format": "json"}).content)
    assert [c["name"] for c in containers] == ["box"] and containers[0]["count"] == 1
    objects = json.loads(friend("GET", "box", query={"shared": "", "format": "json"}).content)
    assert [o["name"] for o in objects] == ["doc.txt"]
    own_view = json.loads(owner("GET", "box", query={"shared": "", "format": "json"}).content)
    assert [o["name"] for o in own_view] == ["doc.txt"]
    owner("PUT", "other")
    assert friend("GET", "other", query={"shared": ""}).status_code == 403
    assert friend("GET", "nope", query={"shared": ""}).status_code == 403


def test_shared_listing_answers_403_when_nothing_shared(owner, friend):
    assert friend("GET", query={"shared": ""}).status_code == 403
    assert friend.own("GET", query={"shared": ""}).status_code == 204


def test_public_link_serves_without_auth_with_ranges_until_revoked(owner):
    assert owner("POST", "box", "doc.txt", X_OBJECT_PUBLIC="true").status_code == 202
    url = owner("HEAD", "box", "doc.txt")["X-Object-Public"]
    path = url.removeprefix("http://testserver")
    anonymous = Client()
    got = anonymous.get(path)
    assert got.status_code == 200 and body(got) == b"shared bytes"
    ranged = anonymous.get(path, HTTP_RANGE="bytes=0-5")
    assert ranged.status_code == 206 and body(ranged) == b"shared"
    assert anonymous.get(path, HTTP_RANGE="bytes=100-").status_code == 416
    assert anonymous.head(path)["Content-Length"] == "12"
    assert anonymous.post(path).status_code == 405
    owner("POST", "box", "doc.txt", X_OBJECT_PUBLIC="false")
    assert "X-Object-Public" not in owner("HEAD", "box", "doc.txt")
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/public/" + "x" * 100).status_code == 404


def test_public_link_dies_when_object_deleted(owner):
    owner("PUT", "box", "p", data=b"p", X_OBJECT_PUBLIC="true")
    path = owner("HEAD", "box", "p")["X-Object-Public"].removeprefix("http://testserver")
    assert Client().get(path).status_code == 200
    owner("DELETE", "box", "p")
    owner("PUT", "box", "p", data=b"again")
    assert Client().get(path).status_code == 404
    assert "X-Object-Public" not in owner("HEAD", "box", "p")


def test_public_answers_400_when_flag_invalid(owner):
    assert owner("POST", "box", "doc.txt", X_OBJECT_PUBLIC="maybe").status_code == 400


@pytest.mark.parametrize(
    ("method", "parts", "query", "headers"),
    [
        ("GET", ("box", "private"), {"hashmap": ""}, {}),
        ("GET", ("box", "private"), {"version": "list"}, {}),
        ("PUT", ("box", "x"), {"hashmap": ""}, {}),
        ("MOVE", ("box", "private"), None, {"HTTP_DESTINATION": "box/stolen"}),
        ("PUT", ("box", "y"), None, {"HTTP_X_MOVE_FROM": "box/private"}),
        ("POST", ("box", "private"), None, {"HTTP_X_SOURCE_VERSION": "1"}),
        ("POST", ("box", "private"), None, {"HTTP_X_OBJECT_PUBLIC": "true"}),
        ("POST", ("box",), {"update": ""}, {"content_type": "application/octet-stream"}),
        ("POST", ("box",), None, {"HTTP_X_CONTAINER_POLICY_VERSIONING": "auto"}),
        ("POST", (), None, {"HTTP_X_ACCOUNT_GROUP_TEAM": "friend"}),
    ],
)
def test_pithos_requests_answer_403_when_caller_is_another_project(owner, friend, method, parts, query, headers):
    response = friend(method, *parts, data=b"{}", query=query, **headers)
    assert response.status_code == 403
    assert b"secret" not in body(response)
    assert owner("HEAD", "box", "private").status_code == 200


def test_sharing_accepts_user_id_when_name_not_given(owner, friend):
    from identity.models import User

    friend_id = User.objects.get(name="friend").pk
    assert owner("POST", "box", "doc.txt", X_OBJECT_SHARING=f"read={friend_id}").status_code == 202
    assert friend("HEAD", "box", "doc.txt").status_code == 200


def test_hashmap_put_answers_413_when_over_quota(owner, swift_project):
    from identity.services import quotas

    doc = owner("GET", "box", "doc.txt", query={"hashmap": ""}).content
    quotas.set_limit(swift_project, "objectstore.bytes", 5, actor=None)
    assert owner("PUT", "box", "copy", data=doc, query={"hashmap": ""}).status_code == 413
    assert owner("HEAD", "box", "copy").status_code == 404


def test_pithos_endpoints_isolated_when_token_from_other_project(owner, friend):
    from rest_framework.test import APIClient

    from tests.isolation import Probe, assert_isolated

    owner("POST", "box", "doc.txt", X_OBJECT_SHARING="read=friend")  # one object shared; the rest stays hidden
    base = f"/v1/{owner.account}"
    probes = [
        Probe("GET", base + "/box/private?hashmap"),
        Probe("HEAD", base + "/box/private?hashmap"),
        Probe("GET", base + "/box/private?version=list"),
        Probe("GET", base + "/box/private?version=1"),
        Probe("PUT", base + "/box/private?hashmap"),
        Probe("POST", base + "/box/private", headers={"X-Source-Version": "1"}),
        Probe("POST", base + "/box/private", headers={"X-Object-Sharing": "read=friend"}),
        Probe("POST", base + "/box/doc.txt", headers={"X-Object-Public": "true"}),
        Probe("PUT", base + "/box/doc.txt"),
        Probe("DELETE", base + "/box/doc.txt"),
        Probe("POST", base + "/box?update"),
        Probe("POST", base, headers={"X-Account-Group-Evil": "friend"}),
        Probe("GET", base + "/box"),
    ]
    assert_isolated(APIClient(), friend.token, probes, forbidden=["secret", "private"])
