"""Keystone v3 tokens: `POST/GET/HEAD/DELETE /v3/auth/tokens` and the `/v3/auth/*` listings."""

from __future__ import annotations

import time
from typing import Any

import pytest

from identity import tokens
from identity.models import Project, User
from identity.services import catalog
from identity.tokens import TokenContext
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign

pytestmark = pytest.mark.django_db

TOKENS = "/identity/v3/auth/tokens"
SCOPED_KEYS = {"methods", "user", "audit_ids", "issued_at", "expires_at", "project", "is_domain", "roles", "catalog"}
UNSCOPED_KEYS = {"methods", "user", "audit_ids", "issued_at", "expires_at"}


@pytest.fixture(autouse=True)
def _catalog(db):
    catalog.seed_catalog("RegionOne")


def password_auth(user: User, project: Project | None = None, *, by_id: bool = False, password: str = PASSWORD):
    """A v3 password `auth` request body, scoped to `project` when given."""
    spec: dict[str, Any] = {"password": password}
    spec.update({"id": user.pk} if by_id else {"name": user.name, "domain": {"name": "Default"}})
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": spec}}}
    if project is not None:
        auth["scope"] = {"project": {"name": project.name, "domain": {"id": "default"}}}
    return {"auth": auth}


def issue(api, user: User, project: Project | None = None, **kwargs):
    """POST a password auth request and return the response."""
    return api().post(TOKENS, password_auth(user, project, **kwargs), format="json")


def expired_token(user: User) -> str:
    """A correctly signed token that expired a minute ago."""
    now = time.time()
    ctx = TokenContext(
        user.pk, user.name, "default", None, None, None, (), ("password",), now - 3600, now - 60, tokens.new_audit_id()
    )
    return tokens.encode(ctx)


def test_token_issued_with_keystone_shape_when_password_and_project_scope(api, member, project):
    response = issue(api, member, project)
    assert response.status_code == 201
    assert response["X-Subject-Token"]
    token = response.json()["token"]
    assert set(token) == SCOPED_KEYS
    assert token["methods"] == ["password"]
    assert token["user"] == {
        "id": member.pk,
        "name": member.name,
        "domain": {"id": "default", "name": "Default"},
        "password_expires_at": None,
    }
    assert token["project"] == {"id": project.pk, "name": project.name, "domain": {"id": "default", "name": "Default"}}
    assert token["is_domain"] is False
    assert sorted(r["name"] for r in token["roles"]) == ["member", "reader"]
    assert all(set(r) == {"id", "name"} for r in token["roles"])
    assert token["expires_at"].endswith("Z") and token["issued_at"].endswith("Z")
    assert token["expires_at"] > token["issued_at"]
    assert len(token["audit_ids"]) == 1


def test_token_catalog_lists_every_service_when_project_scoped(api, member, project):
    token = issue(api, member, project).json()["token"]
    types = {entry["type"]: entry for entry in token["catalog"]}
    assert set(types) == {"identity", "compute", "image", "volumev3", "block-storage", "network", "object-store"}
    identity = types["identity"]["endpoints"]
    assert {e["interface"] for e in identity} == {"public", "internal", "admin"}
    assert all(e["region_id"] == e["region"] == "RegionOne" for e in identity)
    assert identity[0]["url"] == "http://testserver/identity/v3"
    swift = types["object-store"]["endpoints"][0]["url"]
    assert swift == f"http://testserver/v1/AUTH_{project.pk}"


def test_token_issued_when_user_given_by_id(api, member, project):
    response = issue(api, member, project, by_id=True)
    assert response.status_code == 201
    assert response.json()["token"]["user"]["id"] == member.pk


def test_token_catalog_omitted_when_nocatalog_requested(api, member, project):
    response = api().post(f"{TOKENS}?nocatalog", password_auth(member, project), format="json")
    assert response.status_code == 201
    assert "catalog" not in response.json()["token"]
    assert "roles" in response.json()["token"]


def test_token_unscoped_without_project_keys_when_no_scope_and_no_default_project(api, member):
    response = issue(api, member)
    assert response.status_code == 201
    assert set(response.json()["token"]) == UNSCOPED_KEYS


def test_token_scoped_to_default_project_when_no_scope_given(api, member, project):
    member.default_project = project
    member.save()
    token = issue(api, member).json()["token"]
    assert token["project"]["id"] == project.pk


def test_token_rescoped_when_token_method_used(api, member, project):
    unscoped = issue(api, member)["X-Subject-Token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped}},
            "scope": {"project": {"id": project.pk}},
        }
    }
    response = api().post(TOKENS, body, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    assert token["project"]["id"] == project.pk
    assert "token" in token["methods"]
    assert len(token["audit_ids"]) == 2


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_token_refused_401_when_password_wrong(api, member, project, password):
    response = issue(api, member, project, password=password)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
    assert "X-Subject-Token" not in response


def test_token_refused_401_when_user_unknown(api, project):
    ghost = User(name="ghost")
    response = issue(api, ghost, project)
    assert response.status_code == 401


def test_token_refused_401_when_user_disabled(api, member, project):
    member.status = User.Status.DISABLED
    member.save()
    assert issue(api, member, project).status_code == 401


def test_token_refused_401_when_project_unknown(api, member):
    body = password_auth(member)
    body["auth"]["scope"] = {"project": {"id": "0" * 32}}
    response = api().post(TOKENS, body, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


def test_token_refused_401_when_user_has_no_role_on_project(api, member):
    other = ProjectFactory()
    assert issue(api, member, other).status_code == 401


def test_token_refused_401_when_project_disabled(api, member, project):
    Project.objects.filter(pk=project.pk).update(enabled=False)
    assert issue(api, member, project).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"auth": "x"},
        {"auth": {}},
        {"auth": {"identity": {"methods": ["password"]}}},
        {"auth": {"identity": {"methods": []}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "x", "password": "y"}}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "x"}}}}},
        [1, 2],
    ],
)
def test_token_refused_400_when_request_incomplete(api, body):
    response = api().post(TOKENS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_token_refused_400_when_json_malformed(api):
    response = api().post(TOKENS, '{"auth": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["title"] == "Bad Request"


def test_token_issue_ignores_bad_x_auth_token_when_posting(api, member, project):
    response = api("not-a-token").post(TOKENS, password_auth(member, project), format="json")
    assert response.status_code == 201


def test_token_validation_returns_issued_body_when_subject_valid(api, member, project):
    issued = issue(api, member, project)
    subject = issued["X-Subject-Token"]
    caller = issue(api, member, project)["X-Subject-Token"]
    response = api(caller).get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 200
    assert response["X-Subject-Token"] == subject
    assert response.json() == issued.json()


def test_token_validation_omits_catalog_when_nocatalog(api, member, project):
    subject = issue(api, member, project)["X-Subject-Token"]
    response = api(subject).get(f"{TOKENS}?nocatalog=1", HTTP_X_SUBJECT_TOKEN=subject)
    assert "catalog" not in response.json()["token"]


def test_token_validation_401_when_no_x_auth_token(api, member, project):
    subject = issue(api, member, project)["X-Subject-Token"]
    response = api().get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    assert response["WWW-Authenticate"].startswith("Keystone")


def test_token_validation_401_when_x_auth_token_expired(api, member, project):
    subject = issue(api, member, project)["X-Subject-Token"]
    response = api(expired_token(member)).get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 401


@pytest.mark.parametrize("subject", ["garbage", "abc.def", ""])
def test_token_validation_404_or_400_when_subject_bad(api, member, project, subject):
    caller = issue(api, member, project)["X-Subject-Token"]
    response = api(caller).get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == (400 if not subject else 404)
    assert response.json()["error"]["code"] == response.status_code


def test_token_validation_404_when_subject_expired(api, member, project):
    caller = issue(api, member, project)["X-Subject-Token"]
    response = api(caller).get(TOKENS, HTTP_X_SUBJECT_TOKEN=expired_token(member))
    assert response.status_code == 404


def test_token_validation_403_when_subject_belongs_to_another_user(api, member, project):
    other = UserFactory()
    assign(other, project, "member")
    subject = issue(api, other, project)["X-Subject-Token"]
    caller = issue(api, member, project)["X-Subject-Token"]
    response = api(caller).get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 403
    assert other.pk not in response.content.decode()


def test_token_validation_allowed_when_caller_admin(api, member, project, admin_user):
    subject = issue(api, member, project)["X-Subject-Token"]
    admin_token = issue(api, admin_user, Project.objects.get(name="admin"))["X-Subject-Token"]
    response = api(admin_token).get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 200
    assert response.json()["token"]["user"]["id"] == member.pk


def test_token_check_200_when_subject_valid_and_404_when_not(api, member, project):
    subject = issue(api, member, project)["X-Subject-Token"]
    client = api(subject)
    response = client.head(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 200
    assert response.content == b""
    assert client.head(TOKENS, HTTP_X_SUBJECT_TOKEN="garbage").status_code == 404


def test_token_revoked_when_deleted(api, member, project, django_capture_on_commit_callbacks):
    subject = issue(api, member, project)["X-Subject-Token"]
    caller = issue(api, member, project)["X-Subject-Token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(caller).delete(TOKENS, HTTP_X_SUBJECT_TOKEN=subject)
    assert response.status_code == 204
    assert api(caller).get(TOKENS, HTTP_X_SUBJECT_TOKEN=subject).status_code == 404
    assert api(caller).head(TOKENS, HTTP_X_SUBJECT_TOKEN=subject).status_code == 404
    revoked = api(subject).get("/identity/v3/auth/projects")
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == 401


def test_token_revocation_403_when_subject_belongs_to_another_user(api, member, project):
    other = UserFactory()
    assign(other, project, "member")
    subject = issue(api, other, project)["X-Subject-Token"]
    caller = issue(api, member, project)["X-Subject-Token"]
    assert api(caller).delete(TOKENS, HTTP_X_SUBJECT_TOKEN=subject).status_code == 403


def test_auth_catalog_returned_when_token_project_scoped(api, member, project):
    subject = issue(api, member, project)["X-Subject-Token"]
    response = api(subject).get("/identity/v3/auth/catalog")
    assert response.status_code == 200
    body = response.json()
    assert {e["type"] for e in body["catalog"]} >= {"identity", "compute", "object-store"}
    assert body["links"]["self"] == "http://testserver/identity/v3/auth/catalog"


def test_auth_catalog_403_when_token_unscoped(api, member):
    subject = issue(api, member)["X-Subject-Token"]
    response = api(subject).get("/identity/v3/auth/catalog")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 403


def test_auth_projects_lists_only_own_enabled_projects_when_requested(api, member, project):
    ProjectFactory(name="foreign")
    disabled = ProjectFactory(name="off", enabled=False)
    assign(member, disabled, "member")
    subject = issue(api, member)["X-Subject-Token"]
    response = api(subject).get("/identity/v3/auth/projects")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["projects"]] == [project.name]
    assert response.json()["links"] == {
        "self": "http://testserver/identity/v3/auth/projects",
        "previous": None,
        "next": None,
    }


def test_auth_domains_empty_when_no_domain_roles(api, member, project):
    subject = issue(api, member, project)["X-Subject-Token"]
    response = api(subject).get("/identity/v3/auth/domains")
    assert response.status_code == 200
    assert response.json()["domains"] == []


def test_auth_listings_401_when_no_token(api):
    for path in ("catalog", "projects", "domains", "system"):
        assert api().get(f"/identity/v3/auth/{path}").status_code == 401


@pytest.mark.parametrize("bad", ["garbage", "expired", "revoked"])
def test_token_rescope_404_when_token_bad_expired_or_revoked(
    api, member, project, bad, django_capture_on_commit_callbacks
):
    if bad == "expired":
        old = expired_token(member)
    elif bad == "revoked":
        old = issue(api, member)["X-Subject-Token"]
        with django_capture_on_commit_callbacks(execute=True):
            api(old).delete(TOKENS, HTTP_X_SUBJECT_TOKEN=old)
    else:
        old = bad
    body = {
        "auth": {"identity": {"methods": ["token"], "token": {"id": old}}, "scope": {"project": {"id": project.pk}}}
    }
    response = api().post(TOKENS, body, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404
