"""Admin pages: who may see them, user status actions, the quota editor and applications."""

from __future__ import annotations

import pytest
from django.test import Client

from identity.models import Project, ProjectApplication, RoleAssignment, User
from identity.quota_models import Holding
from tests.factories import PASSWORD, UserFactory, assign
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/manage/users/", "/manage/projects/", "/manage/applications/", "/manage/audit/"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_page_renders_when_staff(staff_client, url):
    assert staff_client.get(url).status_code == 200


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_page_renders_when_admin_role_on_a_project(role_admin, url):
    assert login(role_admin).get(url).status_code == 200


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_page_is_403_when_plain_member(alice_client, url):
    assert alice_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_page_redirects_to_login_when_anonymous(portal_setup, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_admin_actions_are_403_when_plain_member(alice, alice_client, alice_project, bob):
    pending = UserFactory(name="newbie", status=User.Status.PENDING)
    app = ProjectApplication.objects.create(applicant=alice, name="research")
    posts = [
        f"/manage/users/{pending.pk}/activate/",
        f"/manage/projects/{alice_project.pk}/quotas/",
        f"/manage/applications/{app.pk}/approve/",
        f"/manage/applications/{app.pk}/deny/",
    ]
    for url in posts:
        assert alice_client.post(url, {"reason": "x", "limit__compute.cores": "99"}).status_code == 403
    pending.refresh_from_db()
    app.refresh_from_db()
    assert pending.status == User.Status.PENDING
    assert app.state == ProjectApplication.State.PENDING


def test_admin_menu_shown_only_when_admin(alice_client, staff_client):
    assert b"/manage/users/" not in alice_client.get("/").content
    assert b"/manage/users/" in staff_client.get("/").content


def test_users_table_filters_by_status_and_name_when_given(staff_client, alice):
    UserFactory(name="newbie", status=User.Status.PENDING)
    UserFactory(name="newcomer", status=User.Status.ACTIVE)
    html = staff_client.get("/manage/users/?status=pending").content.decode()
    assert "newbie" in html and "newcomer" not in html and ">alice<" not in html
    html = staff_client.get("/manage/users/?name=newc").content.decode()
    assert "newcomer" in html and "newbie" not in html


def test_users_table_pages_when_many_users(staff_client, portal_setup):
    for n in range(30):
        UserFactory(name=f"bulk{n:02d}")
    first = staff_client.get("/manage/users/?name=bulk").content.decode()
    second = staff_client.get("/manage/users/?name=bulk&page=2").content.decode()
    assert "bulk00" in first and "bulk29" not in first
    assert "bulk29" in second and "bulk00" not in second


def test_users_page_makes_constant_queries_when_50_users(staff_client, portal_setup, django_assert_max_num_queries):
    project = Project.objects.get(name="admin")
    for n in range(50):
        user = UserFactory(name=f"many{n:02d}", default_project=project)
        assign(user, project, "member", "reader")
    with django_assert_max_num_queries(10):
        response = staff_client.get("/manage/users/?name=many&per_page=50")
    assert response.status_code == 200
    assert response.content.decode().count('<tr id="user-') == 50


def test_activate_gives_personal_project_and_allows_login_when_user_pending(staff, staff_client):
    pending = UserFactory(name="newbie", status=User.Status.PENDING)
    assert Client().post("/login/", {"username": "newbie", "password": PASSWORD}).status_code == 200
    response = staff_client.post(f"/manage/users/{pending.pk}/activate/", {"next": "/manage/users/?status=pending"})
    assert response.status_code == 302
    assert response["Location"] == "/manage/users/?status=pending"
    pending.refresh_from_db()
    assert pending.status == User.Status.ACTIVE
    assert pending.default_project is not None and pending.default_project.name == "newbie"
    assert set(RoleAssignment.objects.filter(user=pending).values_list("role__name", flat=True)) == {
        "member",
        "reader",
    }
    client = Client()
    assert client.post("/login/", {"username": "newbie", "password": PASSWORD})["Location"] == "/"
    assert b"newbie" in client.get("/").content


def test_user_action_returns_row_when_htmx(staff_client):
    pending = UserFactory(name="newbie", status=User.Status.PENDING)
    response = staff_client.post(f"/manage/users/{pending.pk}/activate/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="user-{pending.pk}"')
    assert "newbie was activated" in html and 'hx-swap-oob="true"' in html
    assert "/disable/" in html


def test_disable_then_enable_changes_status_when_admin(staff_client, alice):
    staff_client.post(f"/manage/users/{alice.pk}/disable/")
    alice.refresh_from_db()
    assert alice.status == User.Status.DISABLED
    staff_client.post(f"/manage/users/{alice.pk}/enable/")
    alice.refresh_from_db()
    assert alice.status == User.Status.ACTIVE


def test_user_action_refused_when_status_does_not_fit(staff_client, alice):
    response = staff_client.post(f"/manage/users/{alice.pk}/activate/", follow=True)
    assert b"cannot activate" in response.content


def test_user_action_refused_when_admin_disables_self(staff, staff_client):
    staff_client.post(f"/manage/users/{staff.pk}/disable/")
    staff.refresh_from_db()
    assert staff.status == User.Status.ACTIVE


def test_user_action_is_404_when_action_unknown(staff_client, alice):
    assert staff_client.post(f"/manage/users/{alice.pk}/delete/").status_code == 404
    assert staff_client.post("/manage/users/nobody/activate/").status_code == 404


def test_user_action_is_405_when_get(staff_client, alice):
    assert staff_client.get(f"/manage/users/{alice.pk}/disable/").status_code == 405


def test_projects_table_shows_member_counts_when_admin(staff_client, alice_project, bob):
    assign(bob, alice_project, "reader")
    response = staff_client.get("/manage/projects/?name=alice")
    html = response.content.decode()
    assert "alice-project" in html and "bob-project" not in html
    rows = response.context["table"].page.object_list
    assert [(row.record.name, row.record.member_count) for row in rows] == [("alice-project", 2)]


def test_quota_editor_changes_limit_when_admin_saves(staff_client, alice_project):
    url = f"/manage/projects/{alice_project.pk}/quotas/"
    page = staff_client.get(url).content.decode()
    assert 'name="limit__compute.cores" value="8"' in page
    response = staff_client.post(url, {"limit__compute.cores": "32", "limit__compute.ram": str(16 * 1024**3)})
    assert response.status_code == 302
    holding = Holding.objects.get(project=alice_project, user=None, resource_id="compute.cores")
    assert holding.limit == 32
    assert b"compute.cores = 32" in staff_client.get(url).content


def test_quota_editor_shows_error_when_limit_invalid(staff_client, alice_project):
    url = f"/manage/projects/{alice_project.pk}/quotas/"
    response = staff_client.post(url, {"limit__compute.cores": "lots", "limit__compute.ram": "1"})
    assert response.status_code == 200
    assert b"is-invalid" in response.content
    assert Holding.objects.get(project=alice_project, user=None, resource_id="compute.cores").limit == 8


def test_quota_editor_is_404_when_project_unknown(staff_client, portal_setup):
    assert staff_client.get("/manage/projects/nope/quotas/").status_code == 404


def test_applications_list_pending_first_when_mixed(staff_client, alice):
    old_pending = ProjectApplication.objects.create(applicant=alice, name="old-pending")
    ProjectApplication.objects.create(applicant=alice, name="denied-one", state=ProjectApplication.State.DENIED)
    html = staff_client.get("/manage/applications/").content.decode()
    assert html.index("old-pending") < html.index("denied-one")
    assert f"/manage/applications/{old_pending.pk}/approve/" in html


def test_approve_creates_project_with_limits_when_pending(staff_client, alice):
    app = ProjectApplication.objects.create(applicant=alice, name="research", requested_limits={"compute.cores": 64})
    response = staff_client.post(f"/manage/applications/{app.pk}/approve/")
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == ProjectApplication.State.APPROVED
    project = Project.objects.get(name="research")
    assert app.project == project
    assert RoleAssignment.objects.filter(user=alice, project=project, role__name="member").exists()
    assert Holding.objects.get(project=project, user=None, resource_id="compute.cores").limit == 64
    assert b"research" in login(alice).get("/projects/").content


def test_approve_shows_error_when_already_decided(staff_client, alice):
    app = ProjectApplication.objects.create(applicant=alice, name="x", state=ProjectApplication.State.CANCELLED)
    response = staff_client.post(f"/manage/applications/{app.pk}/approve/", follow=True)
    assert b"Could not approve" in response.content
    assert not Project.objects.filter(name="x").exists()


def test_deny_asks_reason_then_denies_when_given(staff_client, alice):
    app = ProjectApplication.objects.create(applicant=alice, name="research")
    url = f"/manage/applications/{app.pk}/deny/"
    assert b'name="reason"' in staff_client.get(url).content
    assert staff_client.post(url, {"reason": ""}).status_code == 200
    app.refresh_from_db()
    assert app.state == ProjectApplication.State.PENDING
    assert staff_client.post(url, {"reason": "Not enough capacity"}).status_code == 302
    app.refresh_from_db()
    assert app.state == ProjectApplication.State.DENIED
    assert app.reason == "Not enough capacity"
    assert b"Not enough capacity" in login(alice).get("/projects/apply/").content


def test_user_action_needs_csrf_token_when_checks_enforced(staff, portal_setup):
    pending = UserFactory(name="newbie", status=User.Status.PENDING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = f"/manage/users/{pending.pk}/activate/"
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    page = client.get("/manage/users/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page.split(f'<tr id="user-{pending.pk}"')[1]
    token = client.cookies["csrftoken"].value
    assert client.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token).status_code == 200
    pending.refresh_from_db()
    assert pending.status == User.Status.ACTIVE
