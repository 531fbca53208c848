"""Keystone error handling across endpoints: JSON faults with the right status, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.models import Project
from identity.services import catalog

pytestmark = pytest.mark.django_db

V3 = "/identity/v3"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["auth", "user", "project", "role", "application_credential", "identity", "x"])
BODIES = JSON | st.dictionaries(KEYS, JSON, max_size=3)
WRITE_ENDPOINTS = [
    ("post", f"{V3}/auth/tokens"),
    ("post", "/identity/v2.0/tokens"),
    ("post", f"{V3}/users"),
    ("post", f"{V3}/projects"),
    ("post", f"{V3}/roles"),
]


@pytest.fixture
def admin_api(api, token_for, admin_user):
    """A client with an admin token on the admin project."""
    catalog.seed_catalog("RegionOne")
    return api(token_for(admin_user, Project.objects.get(name="admin"), ("admin", "member", "reader")))


@pytest.mark.parametrize("method,url", WRITE_ENDPOINTS)
def test_endpoint_never_500_when_body_arbitrary_json(admin_api, method, url):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=BODIES)
    def check(body):
        response = getattr(admin_api, method)(url, body, format="json")
        assert response.status_code < 500, (body, response.content)
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "title", "message"}

    check()


def test_self_updates_never_500_when_body_arbitrary_json(api, token_for, member, project):
    client = api(token_for(member, project))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=BODIES)
    def check(body):
        for url, method in (
            (f"{V3}/users/{member.pk}", "patch"),
            (f"{V3}/users/{member.pk}/password", "post"),
            (f"{V3}/users/{member.pk}/application_credentials", "post"),
        ):
            response = getattr(client, method)(url, body, format="json")
            assert response.status_code < 500, (url, body, response.content)

    check()


@pytest.mark.parametrize(
    "url,body",
    [
        (f"{V3}/users", {"user": {"name": "nul\x00name"}}),
        (
            f"{V3}/auth/tokens",
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": "a\x00", "domain": {"id": "default"}, "password": "x"}},
                    }
                }
            },
        ),
        ("/identity/v2.0/tokens", {"auth": {"passwordCredentials": {"username": "\x00", "password": "x"}}}),
    ],
)
def test_request_400_when_body_contains_nul(admin_api, url, body):
    response = admin_api.post(url, body, format="json")
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


@pytest.mark.parametrize("url", [f"{V3}/users/%00", f"{V3}/users?name=%00", f"{V3}/projects/a%00b/users/x/roles"])
def test_request_400_when_url_contains_nul(admin_api, url):
    assert admin_api.get(url).status_code == 400


@pytest.mark.parametrize(
    "url,body",
    [
        (f"{V3}/users", {"user": {"name": "n" * 256}}),
        (f"{V3}/users", {"user": {"name": "ok", "email": "e" * 250 + "@x.org"}}),
        (f"{V3}/projects", {"project": {"name": "p" * 256}}),
        (f"{V3}/roles", {"role": {"name": "r" * 256}}),
    ],
)
def test_create_400_when_field_too_long(admin_api, url, body):
    response = admin_api.post(url, body, format="json")
    assert response.status_code == 400
    assert "longer than" in response.json()["error"]["message"]


def test_update_400_when_name_too_long(admin_api, member, project):
    assert admin_api.patch(f"{V3}/users/{member.pk}", {"user": {"name": "n" * 256}}, format="json").status_code == 400
    response = admin_api.patch(f"{V3}/projects/{project.pk}", {"project": {"name": "p" * 256}}, format="json")
    assert response.status_code == 400


def test_request_415_json_fault_when_content_type_not_json(api):
    response = api().post(f"{V3}/auth/tokens", "auth=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == 415


def test_request_405_json_fault_when_method_not_served(admin_api):
    response = admin_api.put(f"{V3}/users", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["title"] == "Method Not Allowed"


def test_request_401_json_fault_when_token_forged(api):
    response = api("eyJ1IjoiYWRtaW4ifQ.AAAA").get(f"{V3}/users")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
