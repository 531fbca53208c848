"""The Django admin site: identity models are registered, users are added with hashed passwords."""

from __future__ import annotations

import pytest

from identity.models import ProjectApplication, User
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "identity/user",
    "identity/project",
    "identity/role",
    "identity/roleassignment",
    "identity/applicationcredential",
    "identity/projectapplication",
    "identity/resource",
    "identity/holding",
    "identity/commission",
    "identity/service",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_admin_changelist_renders_when_staff(staff_client, alice, model):
    assert staff_client.get(f"/admin/{model}/").status_code == 200


def test_admin_is_refused_when_not_staff(alice_client):
    assert alice_client.get("/admin/identity/user/").status_code == 302


def test_admin_user_change_form_renders_when_staff(staff_client, alice):
    ProjectApplication.objects.create(applicant=alice, name="x")
    response = staff_client.get(f"/admin/identity/user/{alice.pk}/change/")
    assert response.status_code == 200
    assert b"Raw passwords are not stored" in response.content


def test_admin_add_user_hashes_password_when_created(staff_client):
    data = {
        "name": "added",
        "email": "added@example.org",
        "status": "active",
        "password1": "long-secret-1",
        "password2": "long-secret-1",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
    }
    response = staff_client.post("/admin/identity/user/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(name="added")
    assert user.password != "long-secret-1"
    assert user.check_password("long-secret-1")


def test_admin_add_user_refused_when_name_taken(staff_client, alice):
    data = {
        "name": "alice",
        "email": "",
        "status": "active",
        "password1": "long-secret-1",
        "password2": "long-secret-1",
    }
    response = staff_client.post("/admin/identity/user/add/", data)
    assert response.status_code == 200
    assert b"already exists" in response.content


def test_admin_set_password_hashes_when_staff_changes_it(staff_client, alice):
    data = {"password1": "brand-new-pass", "password2": "brand-new-pass", "usable_password": "true"}
    response = staff_client.post(f"/admin/identity/user/{alice.pk}/password/", data)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("brand-new-pass")


def test_admin_login_refused_when_only_role_admin(role_admin):
    assert login(role_admin).get("/admin/").status_code == 302
