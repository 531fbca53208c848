"""Container ACLs: X-Container-Read/Write grants, referrer public read, and no leak without them."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import ProjectFactory, UserFactory, assign, make_token
from tests.isolation import Probe, assert_isolated
from tests.objectstore.conftest import Swift

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(swift):
    """An owner's container `box` holding `doc.txt`."""
    assert swift("PUT", "box").status_code == 201
    assert swift("PUT", "box", "doc.txt", data=b"shared-bytes").status_code == 201
    return swift


@pytest.fixture
def other(db, shared):
    """A member of another project, with a Swift client aimed at the owner's account."""
    project = ProjectFactory()
    user = UserFactory()
    assign(user, project, "member", "reader")
    return Swift(Client(), make_token(user, project), shared.account), project, user


def test_acl_foreign_user_gets_403_when_no_acl(shared, other):
    client, _, _ = other
    assert client("GET", "box", "doc.txt").status_code == 403
    assert client("GET", "box").status_code == 403
    assert_isolated(
        Client(),
        client.token,
        [Probe("GET", shared.url("box", "doc.txt")), Probe("GET", shared.url("box")), Probe("GET", shared.url())],
        forbidden=["shared-bytes", "doc.txt"],
    )


def test_acl_project_grant_allows_read_but_not_write_when_read_acl_names_project(shared, other):
    client, project, _ = other
    assert shared("POST", "box", X_CONTAINER_READ=f"{project.pk}:*").status_code == 204
    assert b"".join(client("GET", "box", "doc.txt").streaming_content) == b"shared-bytes"
    assert b"doc.txt" in client("GET", "box").content
    assert client("PUT", "box", "new.txt", data=b"x").status_code == 403
    assert client("GET").status_code == 403
    assert client("POST", "box", X_CONTAINER_META_X="1").status_code == 403


def test_acl_user_grant_allows_write_when_write_acl_names_user(shared, other):
    client, project, user = other
    assert shared("POST", "box", X_CONTAINER_WRITE=f"{project.name}:{user.name}").status_code == 204
    assert client("PUT", "box", "new.txt", data=b"x").status_code == 201
    assert client("GET", "box", "new.txt").status_code == 403
    assert client("DELETE", "box", "new.txt").status_code == 204


def test_acl_referrer_grant_allows_anonymous_read_when_public(shared):
    anonymous = Swift(Client(), "", shared.account)
    assert anonymous("GET", "box", "doc.txt").status_code == 401
    assert shared("POST", "box", X_CONTAINER_READ=".r:*").status_code == 204
    assert b"".join(anonymous("GET", "box", "doc.txt").streaming_content) == b"shared-bytes"
    assert anonymous("GET", "box").status_code == 401
    assert anonymous("PUT", "box", "x", data=b"x").status_code == 401
    assert shared("POST", "box", X_CONTAINER_READ=".r:*,.rlistings").status_code == 204
    assert b"doc.txt" in anonymous("GET", "box").content


def test_acl_invalid_designator_gets_400_when_set(shared):
    assert shared("POST", "box", X_CONTAINER_READ=".bogus").status_code == 400


def test_acl_reader_cannot_write_own_account_when_reader_only(shared, swift_for, swift_project):
    user = UserFactory()
    assign(user, swift_project, "reader")
    reader = swift_for(user, swift_project, roles=("reader",))
    assert reader("GET", "box", "doc.txt").status_code == 200
    assert reader("PUT", "box", "x", data=b"x").status_code == 403


def test_acl_guest_role_needs_acl_when_not_owner(shared, swift_for, swift_project):
    user = UserFactory()
    guest = swift_for(user, swift_project, roles=("guest",))
    assert guest("GET", "box").status_code == 403
    assert shared("POST", "box", X_CONTAINER_READ=f"*:{user.pk}").status_code == 204
    assert guest("GET", "box").status_code == 200
