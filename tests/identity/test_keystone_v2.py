"""Legacy Keystone v2.0 tokens: `POST /identity/v2.0/tokens`."""

from __future__ import annotations

import pytest

from identity.services import catalog
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

V2_TOKENS = "/identity/v2.0/tokens"


@pytest.fixture(autouse=True)
def _catalog(db):
    catalog.seed_catalog("RegionOne")


def test_v2_token_issued_with_access_shape_when_tenant_name_given(api, member, project):
    body = {
        "auth": {"passwordCredentials": {"username": member.name, "password": PASSWORD}, "tenantName": project.name}
    }
    response = api().post(V2_TOKENS, body, format="json")
    assert response.status_code == 200
    access = response.json()["access"]
    assert set(access) == {"token", "serviceCatalog", "user", "metadata"}
    assert access["token"]["tenant"]["id"] == project.pk
    assert access["token"]["expires"].endswith("Z")
    assert access["user"]["id"] == member.pk
    assert sorted(r["name"] for r in access["user"]["roles"]) == ["member", "reader"]
    services = {s["type"]: s for s in access["serviceCatalog"]}
    identity = services["identity"]["endpoints"][0]
    assert identity["publicURL"] == "http://testserver/identity/v2.0"
    assert set(identity) == {"id", "region", "publicURL", "internalURL", "adminURL"}
    assert services["object-store"]["endpoints"][0]["publicURL"].endswith(f"/v1/AUTH_{project.pk}")


def test_v2_token_usable_on_v3_api_when_issued(api, member, project):
    body = {"auth": {"passwordCredentials": {"username": member.name, "password": PASSWORD}, "tenantId": project.pk}}
    token = api().post(V2_TOKENS, body, format="json").json()["access"]["token"]["id"]
    response = api(token).get("/identity/v3/auth/projects")
    assert response.status_code == 200


def test_v2_token_unscoped_without_catalog_when_no_tenant(api, member):
    body = {"auth": {"passwordCredentials": {"username": member.name, "password": PASSWORD}}}
    access = api().post(V2_TOKENS, body, format="json").json()["access"]
    assert "tenant" not in access["token"]
    assert access["serviceCatalog"] == []


def test_v2_token_scoped_when_rescoping_with_token(api, member, project):
    body = {"auth": {"passwordCredentials": {"username": member.name, "password": PASSWORD}}}
    unscoped = api().post(V2_TOKENS, body, format="json").json()["access"]["token"]["id"]
    response = api().post(V2_TOKENS, {"auth": {"token": {"id": unscoped}, "tenantName": project.name}}, format="json")
    assert response.status_code == 200
    assert response.json()["access"]["token"]["tenant"]["name"] == project.name


def test_v2_token_refused_401_when_password_wrong(api, member, project):
    body = {"auth": {"passwordCredentials": {"username": member.name, "password": "nope"}, "tenantId": project.pk}}
    response = api().post(V2_TOKENS, body, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


@pytest.mark.parametrize("body", [{}, {"auth": {}}, {"auth": {"passwordCredentials": {"username": "x"}}}])
def test_v2_token_refused_400_when_request_incomplete(api, body):
    response = api().post(V2_TOKENS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400
