"""Cross-project isolation: another project's token gets 403/404 on every Swift endpoint, never data."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import ProjectFactory, UserFactory, assign, make_token
from tests.isolation import Probe, assert_isolated

pytestmark = pytest.mark.django_db

SECRET_CONTENT = b"victim-secret-bytes"


@pytest.fixture
def victim(swift):
    """The victim's account: a container with metadata and an object."""
    assert swift("PUT", "vault", X_CONTAINER_META_NOTE="victim-container-meta").status_code == 201
    assert (
        swift("PUT", "vault", "plans.txt", data=SECRET_CONTENT, X_OBJECT_META_NOTE="victim-obj-meta").status_code == 201
    )
    swift("POST", X_ACCOUNT_META_NOTE="victim-account-meta")
    return swift


@pytest.fixture
def outsider(db) -> tuple[str, str]:
    """A member of another project: (token, own account)."""
    project = ProjectFactory()
    user = UserFactory()
    assign(user, project, "member", "reader")
    return make_token(user, project), f"AUTH_{project.pk}"


@pytest.fixture
def outsider_token(outsider) -> str:
    return outsider[0]


def test_swift_isolates_every_endpoint_when_token_from_other_project(victim, outsider_token):
    base = f"/v1/{victim.account}"
    probes = [
        Probe("HEAD", base),
        Probe("GET", base),
        Probe("GET", base + "?format=json"),
        Probe("POST", base, headers={"X-Account-Meta-Evil": "1"}),
        Probe("PUT", base + "/vault"),
        Probe("PUT", base + "/newbox"),
        Probe("HEAD", base + "/vault"),
        Probe("GET", base + "/vault?format=json"),
        Probe("POST", base + "/vault", headers={"X-Container-Meta-Evil": "1"}),
        Probe("DELETE", base + "/vault"),
        Probe("GET", base + "/vault/plans.txt"),
        Probe("HEAD", base + "/vault/plans.txt"),
        Probe("PUT", base + "/vault/plans.txt"),
        Probe("POST", base + "/vault/plans.txt", headers={"X-Object-Meta-Evil": "1"}),
        Probe("DELETE", base + "/vault/plans.txt"),
    ]
    forbidden = [
        "victim-container-meta",
        "victim-obj-meta",
        "victim-account-meta",
        SECRET_CONTENT.decode(),
        "plans.txt",
    ]
    assert_isolated(Client(), outsider_token, probes, forbidden)
    copy = Client().generic("COPY", base + "/vault/plans.txt", HTTP_X_AUTH_TOKEN=outsider_token, HTTP_DESTINATION="x/y")
    assert copy.status_code == 403
    assert victim("HEAD", "vault", "plans.txt")["X-Object-Meta-Note"] == "victim-obj-meta"
    assert victim("HEAD", "vault")["X-Container-Object-Count"] == "1"


def test_swift_refuses_cross_account_copy_when_outsider_names_victim_source(victim, outsider):
    outsider_token, account = outsider
    mine = Client()
    own = f"/v1/{account}"
    assert mine.put(own + "/box", HTTP_X_AUTH_TOKEN=outsider_token).status_code == 201
    stolen = mine.put(
        own + "/box/loot",
        HTTP_X_AUTH_TOKEN=outsider_token,
        HTTP_X_COPY_FROM="vault/plans.txt",
        HTTP_X_COPY_FROM_ACCOUNT=victim.account,
    )
    assert stolen.status_code == 403
    same_name = mine.put(own + "/box/loot", HTTP_X_AUTH_TOKEN=outsider_token, HTTP_X_COPY_FROM="vault/plans.txt")
    assert same_name.status_code == 404
    assert SECRET_CONTENT not in stolen.content + same_name.content


def test_swift_forbids_unscoped_token_when_no_project(victim, swift_user):
    token = make_token(swift_user, None, roles=())
    assert Client().get(f"/v1/{victim.account}", HTTP_X_AUTH_TOKEN=token).status_code == 403
