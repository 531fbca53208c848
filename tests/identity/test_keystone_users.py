"""Keystone v3 users: `/v3/users` CRUD, `/v3/users/{id}/password`, `/v3/users/{id}/projects`."""

from __future__ import annotations

import pytest

from identity.models import User
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign

pytestmark = pytest.mark.django_db

USERS = "/identity/v3/users"


def login(api, name: str, password: str) -> int:
    """The status of an unscoped password login."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": {"id": "default"}, "password": password}},
            }
        }
    }
    return api().post("/identity/v3/auth/tokens", body, format="json").status_code


def test_users_listed_with_links_when_admin(admin_api, member):
    response = admin_api.get(USERS)
    assert response.status_code == 200
    body = response.json()
    names = {u["name"] for u in body["users"]}
    assert {member.name, "cloud-admin"} <= names
    assert body["links"] == {"self": "http://testserver/identity/v3/users", "previous": None, "next": None}
    user = next(u for u in body["users"] if u["id"] == member.pk)
    assert user["links"]["self"] == f"http://testserver/identity/v3/users/{member.pk}"
    assert user["domain_id"] == "default" and user["enabled"] is True
    assert "password" not in user


def test_users_filtered_when_name_domain_or_enabled_given(admin_api, member):
    UserFactory(name="sleeper", status=User.Status.DISABLED)
    assert [u["id"] for u in admin_api.get(f"{USERS}?name={member.name}").json()["users"]] == [member.pk]
    assert admin_api.get(f"{USERS}?domain_id=nope").json()["users"] == []
    disabled = admin_api.get(f"{USERS}?enabled=false").json()["users"]
    assert [u["name"] for u in disabled] == ["sleeper"]
    assert "sleeper" not in {u["name"] for u in admin_api.get(f"{USERS}?enabled=true").json()["users"]}


def test_users_list_403_when_not_admin(member_api):
    response = member_api.get(USERS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 403


def test_user_created_and_can_log_in_when_admin_posts(admin_api, api, project):
    body = {
        "user": {
            "name": "alice",
            "password": "alice-pass",
            "email": "a@example.org",
            "default_project_id": project.pk,
            "description": "Alice",
        }
    }
    response = admin_api.post(USERS, body, format="json")
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["name"] == "alice" and user["email"] == "a@example.org"
    assert user["default_project_id"] == project.pk
    assert login(api, "alice", "alice-pass") == 201


def test_user_created_disabled_when_enabled_false(admin_api, api):
    response = admin_api.post(USERS, {"user": {"name": "bob", "password": "bob-pass", "enabled": False}}, format="json")
    assert response.json()["user"]["enabled"] is False
    assert login(api, "bob", "bob-pass") == 401


def test_user_create_409_when_name_taken(admin_api, member):
    response = admin_api.post(USERS, {"user": {"name": member.name, "password": "whatever"}}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["title"] == "Conflict"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user": "alice"},
        {"user": {}},
        {"user": {"name": ""}},
        {"user": {"name": 7}},
        {"user": {"name": "carol", "enabled": "yes"}},
        {"user": {"name": "carol", "password": "short"}},
        {"user": {"name": "carol", "default_project_id": "nope"}},
    ],
)
def test_user_create_400_when_body_invalid(admin_api, body):
    response = admin_api.post(USERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_user_create_404_when_domain_unknown(admin_api):
    response = admin_api.post(USERS, {"user": {"name": "dave", "domain_id": "elsewhere"}}, format="json")
    assert response.status_code == 404


def test_user_create_403_when_not_admin(member_api):
    response = member_api.post(USERS, {"user": {"name": "eve", "password": "eve-pass"}}, format="json")
    assert response.status_code == 403
    assert not User.objects.filter(name="eve").exists()


def test_user_shown_when_reading_own_record(member_api, member):
    response = member_api.get(f"{USERS}/{member.pk}")
    assert response.status_code == 200
    assert response.json()["user"]["name"] == member.name


def test_user_show_403_when_other_user_and_not_admin(member_api):
    other = UserFactory()
    response = member_api.get(f"{USERS}/{other.pk}")
    assert response.status_code == 403
    assert other.name not in response.content.decode()


def test_user_show_404_when_unknown_and_admin(admin_api):
    response = admin_api.get(f"{USERS}/{'0' * 32}")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Could not find user: {'0' * 32}."


def test_user_updated_when_admin_patches(admin_api, member):
    response = admin_api.patch(f"{USERS}/{member.pk}", {"user": {"name": "renamed", "description": "d"}}, format="json")
    assert response.status_code == 200
    assert response.json()["user"]["name"] == "renamed"
    assert response.json()["user"]["description"] == "d"


def test_user_disabled_cannot_log_in_when_admin_disables(admin_api, api, member):
    response = admin_api.patch(f"{USERS}/{member.pk}", {"user": {"enabled": False}}, format="json")
    assert response.json()["user"]["enabled"] is False
    assert login(api, member.name, PASSWORD) == 401


def test_user_password_reset_when_admin_patches_password(admin_api, api, member):
    admin_api.patch(f"{USERS}/{member.pk}", {"user": {"password": "brand-new-pass"}}, format="json")
    assert login(api, member.name, "brand-new-pass") == 201


def test_user_updates_own_email_when_self(member_api, member):
    response = member_api.patch(f"{USERS}/{member.pk}", {"user": {"email": "new@example.org"}}, format="json")
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "new@example.org"


def test_user_sets_own_default_project_when_member_of_it(member_api, member, project):
    response = member_api.patch(f"{USERS}/{member.pk}", {"user": {"default_project_id": project.pk}}, format="json")
    assert response.json()["user"]["default_project_id"] == project.pk


def test_user_default_project_403_when_self_not_member_of_it(member_api, member):
    foreign = ProjectFactory()
    response = member_api.patch(f"{USERS}/{member.pk}", {"user": {"default_project_id": foreign.pk}}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("change", [{"enabled": False}, {"name": "boss"}, {"password": "sneaky-pass"}])
def test_user_update_403_when_self_changes_protected_field(member_api, member, change):
    response = member_api.patch(f"{USERS}/{member.pk}", {"user": change}, format="json")
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.enabled and member.check_password(PASSWORD)


def test_user_update_403_when_other_user_and_not_admin(member_api):
    other = UserFactory()
    response = member_api.patch(f"{USERS}/{other.pk}", {"user": {"email": "x@example.org"}}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("change", [{"id": "other"}, {"domain_id": "other"}, {"name": ""}, {"enabled": "no"}])
def test_user_update_400_when_change_invalid(admin_api, member, change):
    response = admin_api.patch(f"{USERS}/{member.pk}", {"user": change}, format="json")
    assert response.status_code == 400


def test_user_update_409_when_name_taken(admin_api, member):
    UserFactory(name="taken")
    assert admin_api.patch(f"{USERS}/{member.pk}", {"user": {"name": "taken"}}, format="json").status_code == 409


def test_user_deleted_when_admin_deletes(admin_api, member):
    assert admin_api.delete(f"{USERS}/{member.pk}").status_code == 204
    assert admin_api.get(f"{USERS}/{member.pk}").status_code == 404
    assert admin_api.delete(f"{USERS}/{member.pk}").status_code == 404


def test_user_delete_403_when_not_admin(member_api, member):
    assert member_api.delete(f"{USERS}/{member.pk}").status_code == 403
    assert User.objects.filter(pk=member.pk).exists()


def test_password_changed_and_old_token_revoked_when_original_correct(
    api, member, project, django_capture_on_commit_callbacks
):
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": member.pk, "password": PASSWORD}}},
            "scope": {"project": {"id": project.pk}},
        }
    }
    old = api().post("/identity/v3/auth/tokens", body, format="json")["X-Subject-Token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(old).post(
            f"{USERS}/{member.pk}/password",
            {"user": {"password": "changed-pass", "original_password": PASSWORD}},
            format="json",
        )
    assert response.status_code == 204
    assert api(old).get("/identity/v3/auth/projects").status_code == 401
    assert login(api, member.name, "changed-pass") == 201
    assert login(api, member.name, PASSWORD) == 401


def test_password_change_works_when_no_token_sent(api, member):
    response = api().post(
        f"{USERS}/{member.pk}/password",
        {"user": {"password": "changed-pass", "original_password": PASSWORD}},
        format="json",
    )
    assert response.status_code == 204


def test_password_change_401_when_original_wrong(api, member):
    response = api().post(
        f"{USERS}/{member.pk}/password",
        {"user": {"password": "changed-pass", "original_password": "wrong"}},
        format="json",
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


def test_password_change_401_when_user_unknown(api):
    response = api().post(
        f"{USERS}/{'0' * 32}/password", {"user": {"password": "changed-pass", "original_password": "x"}}, format="json"
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user": {"password": "changed-pass"}},
        {"user": {"original_password": PASSWORD}},
        {"user": {"password": "abc", "original_password": PASSWORD}},
    ],
)
def test_password_change_400_when_body_invalid(api, member, body):
    assert api().post(f"{USERS}/{member.pk}/password", body, format="json").status_code == 400


def test_user_projects_listed_when_self(member_api, member, project):
    ProjectFactory(name="foreign")
    response = member_api.get(f"{USERS}/{member.pk}/projects")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["projects"]] == [project.pk]
    assert response.json()["projects"][0]["links"]["self"].endswith(f"/v3/projects/{project.pk}")


def test_user_projects_listed_when_admin_asks_for_other_user(admin_api, member, project):
    response = admin_api.get(f"{USERS}/{member.pk}/projects")
    assert [p["id"] for p in response.json()["projects"]] == [project.pk]


def test_user_projects_403_when_other_user_and_not_admin(member_api, project):
    other = UserFactory()
    secret = ProjectFactory(name="secret-project")
    assign(other, secret, "member")
    response = member_api.get(f"{USERS}/{other.pk}/projects")
    assert response.status_code == 403
    assert "secret-project" not in response.content.decode()


def test_user_projects_404_when_user_unknown_and_admin(admin_api):
    assert admin_api.get(f"{USERS}/{'0' * 32}/projects").status_code == 404


def test_user_default_project_403_when_self_names_unknown_project(member_api, member):
    response = member_api.patch(f"{USERS}/{member.pk}", {"user": {"default_project_id": "0" * 32}}, format="json")
    assert response.status_code == 403
