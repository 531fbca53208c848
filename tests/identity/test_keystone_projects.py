"""Keystone v3 projects: `/v3/projects` CRUD and its policy."""

from __future__ import annotations

import pytest

from identity.models import Project
from tests.factories import PASSWORD, ProjectFactory

pytestmark = pytest.mark.django_db

PROJECTS = "/identity/v3/projects"


def test_projects_listed_with_keystone_fields_when_admin(admin_api, project):
    response = admin_api.get(PROJECTS)
    assert response.status_code == 200
    found = {p["name"]: p for p in response.json()["projects"]}
    assert set(found) >= {"admin", project.name}
    entry = found[project.name]
    assert entry["domain_id"] == "default" and entry["parent_id"] == "default"
    assert entry["is_domain"] is False and entry["enabled"] is True
    assert entry["links"]["self"] == f"http://testserver/identity/v3/projects/{project.pk}"
    assert response.json()["links"]["next"] is None


def test_projects_filtered_when_name_domain_or_enabled_given(admin_api, project):
    ProjectFactory(name="dormant", enabled=False)
    assert [p["id"] for p in admin_api.get(f"{PROJECTS}?name={project.name}").json()["projects"]] == [project.pk]
    assert [p["name"] for p in admin_api.get(f"{PROJECTS}?enabled=0").json()["projects"]] == ["dormant"]
    assert admin_api.get(f"{PROJECTS}?domain_id=elsewhere").json()["projects"] == []


def test_projects_list_403_when_not_admin(member_api):
    response = member_api.get(PROJECTS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 403


def test_project_created_with_quota_holdings_when_admin_posts(admin_api):
    response = admin_api.post(PROJECTS, {"project": {"name": "research", "description": "R&D"}}, format="json")
    assert response.status_code == 201
    body = response.json()["project"]
    assert body["name"] == "research" and body["description"] == "R&D" and body["domain_id"] == "default"
    assert Project.objects.filter(pk=body["id"]).exists()


def test_project_create_409_when_name_taken(admin_api, project):
    response = admin_api.post(PROJECTS, {"project": {"name": project.name}}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"project": []},
        {"project": {}},
        {"project": {"name": ""}},
        {"project": {"name": "x", "enabled": "true"}},
        {"project": {"name": "x", "is_domain": True}},
        {"project": {"name": "x", "parent_id": "some-project"}},
        {"project": {"name": "x", "tags": ["a"]}},
    ],
)
def test_project_create_400_when_body_invalid(admin_api, body):
    response = admin_api.post(PROJECTS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_project_create_403_when_not_admin(member_api):
    assert member_api.post(PROJECTS, {"project": {"name": "mine"}}, format="json").status_code == 403
    assert not Project.objects.filter(name="mine").exists()


def test_project_shown_when_token_scoped_to_it(member_api, project):
    response = member_api.get(f"{PROJECTS}/{project.pk}")
    assert response.status_code == 200
    assert response.json()["project"]["name"] == project.name


def test_project_show_403_when_token_scoped_elsewhere(member_api):
    foreign = ProjectFactory(name="foreign")
    response = member_api.get(f"{PROJECTS}/{foreign.pk}")
    assert response.status_code == 403
    assert "foreign" not in response.content.decode()


def test_project_show_404_when_unknown_and_admin(admin_api):
    assert admin_api.get(f"{PROJECTS}/{'0' * 32}").status_code == 404


def test_project_updated_when_admin_patches(admin_api, project):
    response = admin_api.patch(
        f"{PROJECTS}/{project.pk}", {"project": {"name": "renamed", "enabled": False}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["project"]["name"] == "renamed"
    assert response.json()["project"]["enabled"] is False


def test_project_disabled_refuses_login_when_admin_disables(admin_api, api, member, project):
    admin_api.patch(f"{PROJECTS}/{project.pk}", {"project": {"enabled": False}}, format="json")
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": member.pk, "password": PASSWORD}}},
            "scope": {"project": {"id": project.pk}},
        }
    }
    assert api().post("/identity/v3/auth/tokens", body, format="json").status_code == 401


@pytest.mark.parametrize("change", [{"domain_id": "other"}, {"name": ""}, {"enabled": 1}, {"is_domain": True}])
def test_project_update_400_when_change_invalid(admin_api, project, change):
    assert admin_api.patch(f"{PROJECTS}/{project.pk}", {"project": change}, format="json").status_code == 400


def test_project_update_409_when_name_taken(admin_api, project):
    assert admin_api.patch(f"{PROJECTS}/{project.pk}", {"project": {"name": "admin"}}, format="json").status_code == 409


def test_project_update_403_when_not_admin(member_api, project):
    response = member_api.patch(f"{PROJECTS}/{project.pk}", {"project": {"name": "mine"}}, format="json")
    assert response.status_code == 403


def test_project_deleted_when_admin_deletes(admin_api, project):
    assert admin_api.delete(f"{PROJECTS}/{project.pk}").status_code == 204
    assert admin_api.get(f"{PROJECTS}/{project.pk}").status_code == 404


def test_project_delete_403_when_not_admin(member_api, project):
    assert member_api.delete(f"{PROJECTS}/{project.pk}").status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()


def test_project_delete_404_when_unknown(admin_api):
    assert admin_api.delete(f"{PROJECTS}/{'0' * 32}").status_code == 404
