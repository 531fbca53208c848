"""Keystone v3 roles and assignments: `/v3/roles`, project grants, `/v3/role_assignments`."""

from __future__ import annotations

import pytest

from identity.models import Project, Role, RoleAssignment
from tests.factories import ProjectFactory, UserFactory, assign, role

pytestmark = pytest.mark.django_db

ROLES = "/identity/v3/roles"
ASSIGNMENTS = "/identity/v3/role_assignments"


def grant_url(project: Project, user, role_obj: Role) -> str:
    """The URL of one grant."""
    return f"/identity/v3/projects/{project.pk}/users/{user.pk}/roles/{role_obj.pk}"


def test_roles_listed_when_admin(admin_api):
    response = admin_api.get(ROLES)
    assert response.status_code == 200
    names = [r["name"] for r in response.json()["roles"]]
    assert {"admin", "member", "reader"} <= set(names)
    first = response.json()["roles"][0]
    assert first["domain_id"] is None
    assert first["links"]["self"] == f"http://testserver/identity/v3/roles/{first['id']}"


def test_roles_filtered_when_name_given(admin_api):
    response = admin_api.get(f"{ROLES}?name=member")
    assert [r["name"] for r in response.json()["roles"]] == ["member"]


def test_roles_list_403_when_not_admin(member_api):
    assert member_api.get(ROLES).status_code == 403


def test_role_created_and_shown_when_admin(admin_api):
    response = admin_api.post(ROLES, {"role": {"name": "auditor", "description": "reads logs"}}, format="json")
    assert response.status_code == 201
    role_id = response.json()["role"]["id"]
    shown = admin_api.get(f"{ROLES}/{role_id}").json()["role"]
    assert shown["name"] == "auditor" and shown["description"] == "reads logs"


def test_role_create_409_when_name_taken(admin_api):
    assert admin_api.post(ROLES, {"role": {"name": "member"}}, format="json").status_code == 409


@pytest.mark.parametrize("body", [{}, {"role": {}}, {"role": {"name": ""}}, {"role": {"name": "x", "domain_id": "d"}}])
def test_role_create_400_when_body_invalid(admin_api, body):
    assert admin_api.post(ROLES, body, format="json").status_code == 400


def test_role_create_403_when_not_admin(member_api):
    assert member_api.post(ROLES, {"role": {"name": "boss"}}, format="json").status_code == 403
    assert not Role.objects.filter(name="boss").exists()


def test_role_show_404_when_unknown(admin_api):
    assert admin_api.get(f"{ROLES}/{'0' * 32}").status_code == 404


def test_role_deleted_when_admin_deletes_custom_role(admin_api):
    custom = role("custom")
    assert admin_api.delete(f"{ROLES}/{custom.pk}").status_code == 204
    assert admin_api.get(f"{ROLES}/{custom.pk}").status_code == 404


def test_role_delete_409_when_builtin(admin_api):
    assert admin_api.delete(f"{ROLES}/{role('member').pk}").status_code == 409


def test_role_delete_403_when_not_admin(member_api):
    custom = role("custom")
    assert member_api.delete(f"{ROLES}/{custom.pk}").status_code == 403


def test_grant_created_checked_listed_and_revoked_when_admin(admin_api, project):
    user = UserFactory()
    member_role = role("member")
    url = grant_url(project, user, member_role)
    assert admin_api.head(url).status_code == 404
    assert admin_api.put(url).status_code == 204
    assert admin_api.put(url).status_code == 204
    assert admin_api.head(url).status_code == 204
    listed = admin_api.get(f"/identity/v3/projects/{project.pk}/users/{user.pk}/roles").json()
    assert [r["name"] for r in listed["roles"]] == ["member"]
    assert admin_api.delete(url).status_code == 204
    assert admin_api.delete(url).status_code == 404
    assert not RoleAssignment.objects.filter(user=user, project=project).exists()


@pytest.mark.parametrize("missing", ["project", "user", "role"])
def test_grant_404_when_object_unknown(admin_api, project, member, missing):
    parts = {"project": project.pk, "user": member.pk, "role": role("member").pk, missing: "0" * 32}
    url = f"/identity/v3/projects/{parts['project']}/users/{parts['user']}/roles/{parts['role']}"
    response = admin_api.put(url)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Could not find {missing}: {'0' * 32}."


def test_grant_403_when_not_admin(member_api, project):
    user = UserFactory()
    assert member_api.put(grant_url(project, user, role("member"))).status_code == 403
    assert not RoleAssignment.objects.filter(user=user).exists()


def test_grant_revoke_403_when_not_admin(member_api, member, project):
    assert member_api.delete(grant_url(project, member, role("member"))).status_code == 403


def test_own_grants_readable_when_token_scoped_to_project(member_api, member, project):
    listed = member_api.get(f"/identity/v3/projects/{project.pk}/users/{member.pk}/roles")
    assert listed.status_code == 200
    assert sorted(r["name"] for r in listed.json()["roles"]) == ["member", "reader"]
    assert member_api.head(grant_url(project, member, role("member"))).status_code == 204


def test_other_users_grants_403_when_not_admin(member_api, project):
    other = UserFactory()
    assign(other, project, "member")
    assert member_api.get(f"/identity/v3/projects/{project.pk}/users/{other.pk}/roles").status_code == 403


def test_role_assignments_listed_when_admin(admin_api, member, project):
    response = admin_api.get(f"{ASSIGNMENTS}?user.id={member.pk}")
    assert response.status_code == 200
    entries = response.json()["role_assignments"]
    assert {e["role"]["id"] for e in entries} == {role("member").pk, role("reader").pk}
    first = entries[0]
    assert first["user"] == {"id": member.pk}
    assert first["scope"] == {"project": {"id": project.pk}}
    assert first["links"]["assignment"].endswith(
        f"/projects/{project.pk}/users/{member.pk}/roles/{first['role']['id']}"
    )


def test_role_assignments_carry_names_when_include_names(admin_api, member, project):
    url = f"{ASSIGNMENTS}?scope.project.id={project.pk}&role.id={role('member').pk}&include_names=True&effective"
    entries = admin_api.get(url).json()["role_assignments"]
    assert len(entries) == 1
    assert entries[0]["role"] == {"id": role("member").pk, "name": "member"}
    assert entries[0]["user"] == {"id": member.pk, "name": member.name, "domain": {"id": "default", "name": "Default"}}
    assert entries[0]["scope"]["project"]["name"] == project.name


def test_role_assignments_empty_when_group_or_domain_filter(admin_api, member):
    assert admin_api.get(f"{ASSIGNMENTS}?group.id=g").json()["role_assignments"] == []
    assert admin_api.get(f"{ASSIGNMENTS}?scope.domain.id=default").json()["role_assignments"] == []


def test_role_assignments_403_when_not_admin(member_api, member):
    ProjectFactory(name="other")
    assert member_api.get(f"{ASSIGNMENTS}?user.id={member.pk}").status_code == 403
