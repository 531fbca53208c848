"""The API access page: endpoints, clouds.yaml and openrc.sh downloads, application credentials."""

from __future__ import annotations

import pytest
import yaml

from identity.models import ApplicationCredential
from identity.services import app_credentials
from tests.factories import ProjectFactory, UserFactory, assign
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db


def test_api_access_lists_public_endpoints_when_member(alice_client, alice_project):
    response = alice_client.get("/api-access/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://testserver/identity/v3" in html
    assert "http://testserver/compute/v2.1" in html
    assert f"http://testserver/v1/AUTH_{alice_project.pk}" in html
    assert "nefos-alice-project" in html


def test_api_access_uses_public_url_when_configured(alice_client, settings):
    settings.PORTAL_PUBLIC_URL = "https://cloud.example.org"
    html = alice_client.get("/api-access/").content.decode()
    assert "https://cloud.example.org/identity/v3" in html
    text = alice_client.get("/api-access/clouds.yaml").content.decode()
    assert yaml.safe_load(text)["clouds"]["nefos-alice-project"]["auth"]["auth_url"] == (
        "https://cloud.example.org/identity/v3"
    )


def test_clouds_yaml_is_valid_yaml_with_auth_url_when_downloaded(alice_client, settings):
    settings.PORTAL_REGION = "Athens"
    response = alice_client.get("/api-access/clouds.yaml")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="clouds.yaml"'
    cloud = yaml.safe_load(response.content)["clouds"]["nefos-alice-project"]
    assert cloud["auth"] == {
        "auth_url": "http://testserver/identity/v3",
        "username": "alice",
        "project_name": "alice-project",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    assert cloud["region_name"] == "Athens"
    assert cloud["identity_api_version"] == 3
    assert "password" not in response.content.decode()


def test_openrc_exports_auth_url_and_asks_password_when_downloaded(alice_client):
    response = alice_client.get("/api-access/openrc.sh")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="openrc.sh"'
    text = response.content.decode()
    assert "export OS_AUTH_URL=http://testserver/identity/v3" in text
    assert "export OS_USERNAME=alice" in text
    assert "export OS_PROJECT_NAME=alice-project" in text
    assert "read -r OS_PASSWORD" in text


def test_downloads_are_404_when_user_has_no_project(portal_setup):
    client = login(UserFactory(name="loner"))
    assert client.get("/api-access/").status_code == 200
    assert client.get("/api-access/clouds.yaml").status_code == 404
    assert client.get("/api-access/openrc.sh").status_code == 404


def test_create_credential_shows_secret_once_when_form_valid(alice, alice_client, alice_project):
    response = alice_client.post("/api-access/credentials/", {"name": "ci", "description": "pipelines"})
    assert response.status_code == 200
    assert "no-store" in response.get("Cache-Control", "")
    cred = ApplicationCredential.objects.get(user=alice, name="ci")
    assert cred.project == alice_project
    secret = response.context["secret"]
    assert secret in response.content.decode()
    snippet = yaml.safe_load(response.context["snippet"])
    entry = snippet["clouds"]["nefos-alice-project-ci"]
    assert entry["auth_type"] == "v3applicationcredential"
    assert entry["auth"] == {
        "auth_url": "http://testserver/identity/v3",
        "application_credential_id": cred.pk,
        "application_credential_secret": secret,
    }
    listing = alice_client.get("/api-access/").content.decode()
    assert f'id="credential-{cred.pk}"' in listing
    assert secret not in listing


def test_create_credential_shows_error_when_name_duplicate(alice, alice_client, alice_project):
    app_credentials.create_app_credential(alice, alice_project, "ci", actor=alice)
    response = alice_client.post("/api-access/credentials/", {"name": "ci"})
    assert response.status_code == 400
    assert b"Duplicate entry" in response.content


def test_delete_credential_deletes_when_mine(alice, alice_client, alice_project):
    cred, _ = app_credentials.create_app_credential(alice, alice_project, "ci", actor=alice)
    response = alice_client.post(f"/api-access/credentials/{cred.pk}/delete/")
    assert response.status_code == 302
    assert not ApplicationCredential.objects.filter(pk=cred.pk).exists()


def test_delete_credential_is_404_when_not_mine(alice, alice_project, bob):
    cred, _ = app_credentials.create_app_credential(alice, alice_project, "ci", actor=alice)
    assert login(bob).post(f"/api-access/credentials/{cred.pk}/delete/").status_code == 404
    assert ApplicationCredential.objects.filter(pk=cred.pk).exists()


def test_credentials_list_hides_other_users_when_rendered(alice, alice_project, bob):
    app_credentials.create_app_credential(alice, alice_project, "alice-secret-cred", actor=alice)
    assert b"alice-secret-cred" not in login(bob).get("/api-access/").content


def test_clouds_yaml_follows_project_switcher_when_switched(alice, alice_client):
    second = ProjectFactory(name="second")
    assign(alice, second, "member")
    alice_client.post("/switch-project/", {"project_id": second.pk})
    clouds = yaml.safe_load(alice_client.get("/api-access/clouds.yaml").content)["clouds"]
    assert clouds["nefos-second"]["auth"]["project_name"] == "second"
    response = alice_client.post("/api-access/credentials/", {"name": "on-second"})
    assert response.context["credential"].project == second
