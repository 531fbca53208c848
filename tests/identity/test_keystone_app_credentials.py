"""Keystone v3 application credentials: `/v3/users/{id}/application_credentials` and authenticating with one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.models import ApplicationCredential, Project
from tests.factories import UserFactory, assign, role

pytestmark = pytest.mark.django_db

TOKENS = "/identity/v3/auth/tokens"


@pytest.fixture
def creds_url(member) -> str:
    """The member's credential collection URL."""
    return f"/identity/v3/users/{member.pk}/application_credentials"


def app_cred_auth(cred_id: str, secret: str) -> dict:
    """A v3 `auth` body for an application credential given by id."""
    return {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred_id, "secret": secret},
            }
        }
    }


def test_app_credential_created_with_secret_once_when_member_posts(member_api, creds_url, member, project):
    response = member_api.post(
        creds_url, {"application_credential": {"name": "ci", "description": "CI"}}, format="json"
    )
    assert response.status_code == 201
    cred = response.json()["application_credential"]
    assert cred["secret"] and cred["project_id"] == project.pk and cred["user_id"] == member.pk
    assert sorted(r["name"] for r in cred["roles"]) == ["member", "reader"]
    assert cred["unrestricted"] is False and cred["expires_at"] is None
    shown = member_api.get(f"{creds_url}/{cred['id']}").json()["application_credential"]
    assert "secret" not in shown and shown["name"] == "ci"
    assert shown["links"]["self"].endswith(f"/users/{member.pk}/application_credentials/{cred['id']}")


def test_app_credential_token_scoped_to_project_when_authenticating(api, member_api, creds_url, project):
    cred = member_api.post(
        creds_url, {"application_credential": {"name": "ci", "roles": [{"name": "reader"}]}}, format="json"
    ).json()["application_credential"]
    response = api().post(TOKENS, app_cred_auth(cred["id"], cred["secret"]), format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    assert token["methods"] == ["application_credential"]
    assert token["project"]["id"] == project.pk
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert token["application_credential"] == {"id": cred["id"], "name": "ci", "restricted": True}


def test_app_credential_token_issued_when_named_with_user(api, member_api, creds_url, member):
    cred = member_api.post(
        creds_url, {"application_credential": {"name": "by-name", "secret": "s3cr3t-value"}}, format="json"
    ).json()["application_credential"]
    assert cred["secret"] == "s3cr3t-value"
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {
                    "name": "by-name",
                    "secret": "s3cr3t-value",
                    "user": {"name": member.name, "domain": {"id": "default"}},
                },
            }
        }
    }
    assert api().post(TOKENS, body, format="json").status_code == 201


def test_app_credential_auth_401_when_secret_wrong(api, member_api, creds_url):
    cred = member_api.post(creds_url, {"application_credential": {"name": "ci"}}, format="json").json()
    response = api().post(TOKENS, app_cred_auth(cred["application_credential"]["id"], "wrong"), format="json")
    assert response.status_code == 401


def test_app_credential_expiry_echoed_when_given(member_api, creds_url):
    expires = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    response = member_api.post(
        creds_url, {"application_credential": {"name": "tmp", "expires_at": expires.isoformat()}}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["application_credential"]["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_app_credential_roles_accepted_when_given_by_id(member_api, creds_url):
    body = {"application_credential": {"name": "ids", "roles": [{"id": role("member").pk}]}}
    cred = member_api.post(creds_url, body, format="json").json()["application_credential"]
    assert [r["name"] for r in cred["roles"]] == ["member"]


def test_app_credentials_listed_and_filtered_when_owner(member_api, creds_url):
    for name in ("one", "two"):
        member_api.post(creds_url, {"application_credential": {"name": name}}, format="json")
    listed = member_api.get(creds_url).json()
    assert [c["name"] for c in listed["application_credentials"]] == ["one", "two"]
    assert all("secret" not in c for c in listed["application_credentials"])
    assert listed["links"]["self"].endswith(creds_url)
    assert [c["name"] for c in member_api.get(f"{creds_url}?name=two").json()["application_credentials"]] == ["two"]


def test_app_credential_deleted_and_tokens_revoked_when_owner_deletes(
    api, member_api, creds_url, django_capture_on_commit_callbacks
):
    cred = member_api.post(creds_url, {"application_credential": {"name": "ci"}}, format="json").json()
    cred = cred["application_credential"]
    token = api().post(TOKENS, app_cred_auth(cred["id"], cred["secret"]), format="json")["X-Subject-Token"]
    with django_capture_on_commit_callbacks(execute=True):
        assert member_api.delete(f"{creds_url}/{cred['id']}").status_code == 204
    assert member_api.get(f"{creds_url}/{cred['id']}").status_code == 404
    assert api(token).get("/identity/v3/auth/projects").status_code == 401
    assert api().post(TOKENS, app_cred_auth(cred["id"], cred["secret"]), format="json").status_code == 401


def test_app_credential_create_409_when_name_taken(member_api, creds_url):
    member_api.post(creds_url, {"application_credential": {"name": "ci"}}, format="json")
    assert member_api.post(creds_url, {"application_credential": {"name": "ci"}}, format="json").status_code == 409


@pytest.mark.parametrize(
    "entity",
    [
        {},
        {"name": ""},
        {"name": "x", "expires_at": "tomorrow"},
        {"name": "x", "expires_at": "2001-01-01T00:00:00"},
        {"name": "x", "roles": "member"},
        {"name": "x", "access_rules": [{"path": "/v2.1/servers", "method": "GET", "service": "compute"}]},
        {"name": "x", "unrestricted": "yes"},
    ],
)
def test_app_credential_create_400_when_body_invalid(member_api, creds_url, entity):
    response = member_api.post(creds_url, {"application_credential": entity}, format="json")
    assert response.status_code == 400


def test_app_credential_create_403_when_role_not_held(member_api, creds_url):
    role("admin")
    body = {"application_credential": {"name": "x", "roles": [{"name": "admin"}]}}
    assert member_api.post(creds_url, body, format="json").status_code == 403


def test_app_credential_create_404_when_role_unknown(member_api, creds_url):
    body = {"application_credential": {"name": "x", "roles": [{"id": "0" * 32}]}}
    assert member_api.post(creds_url, body, format="json").status_code == 404


def test_app_credential_create_403_when_token_unscoped(api, token_for, member, creds_url):
    response = api(token_for(member)).post(creds_url, {"application_credential": {"name": "x"}}, format="json")
    assert response.status_code == 403


def test_app_credential_create_403_when_for_another_user(member_api, project):
    other = UserFactory()
    assign(other, project, "member")
    url = f"/identity/v3/users/{other.pk}/application_credentials"
    assert member_api.post(url, {"application_credential": {"name": "x"}}, format="json").status_code == 403
    assert member_api.get(url).status_code == 403


def test_app_credential_create_403_when_token_from_restricted_app_credential(api, member_api, creds_url):
    cred = member_api.post(creds_url, {"application_credential": {"name": "ci"}}, format="json").json()
    cred = cred["application_credential"]
    token = api().post(TOKENS, app_cred_auth(cred["id"], cred["secret"]), format="json")["X-Subject-Token"]
    response = api(token).post(creds_url, {"application_credential": {"name": "nested"}}, format="json")
    assert response.status_code == 403


def test_app_credential_404_when_owned_by_another_user_under_own_url(member_api, creds_url, project):
    other = UserFactory()
    assign(other, project, "member")
    foreign = ApplicationCredential.objects.create(user=other, project=project, name="theirs", secret_hash="x")
    assert member_api.get(f"{creds_url}/{foreign.pk}").status_code == 404
    assert member_api.delete(f"{creds_url}/{foreign.pk}").status_code == 404


def test_app_credential_readable_when_admin(api, token_for, admin_user, member_api, creds_url):
    cred = member_api.post(creds_url, {"application_credential": {"name": "ci"}}, format="json").json()
    admin = api(token_for(admin_user, Project.objects.get(name="admin"), ("admin",)))
    response = admin.get(f"{creds_url}/{cred['application_credential']['id']}")
    assert response.status_code == 200
    assert "secret" not in response.json()["application_credential"]
