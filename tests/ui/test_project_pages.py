"""Home (quota bars), my projects, project detail, the project switcher and project applications."""

from __future__ import annotations

import pytest

from identity.models import Project, ProjectApplication
from portal.ui.nav import SESSION_PROJECT
from tests.factories import ProjectFactory, UserFactory, assign
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db


def test_home_shows_quota_bars_when_user_is_member(alice_client, alice_project):
    response = alice_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="project-{alice_project.pk}"' in html
    assert "3 of 8 (1 pending)" in html
    assert "width: 37.5%" in html and "width: 12.5%" in html
    assert "0\xa0bytes of 16.0\xa0GB" in html  # filesizeformat uses no-break spaces


def test_home_invites_to_apply_when_user_has_no_project(portal_setup):
    response = login(UserFactory(name="loner")).get("/")
    assert b"not a member of any project" in response.content


def test_project_list_shows_only_my_projects_when_others_exist(alice_client, alice_project, bob):
    assign(bob, alice_project, "reader")
    response = alice_client.get("/projects/")
    html = response.content.decode()
    assert "alice-project" in html
    assert "bob-project" not in html
    [row] = response.context["rows"]
    assert row["project"].member_count == 2
    assert row["roles"] == ["member", "reader"]


def test_project_detail_shows_members_and_quotas_when_member(alice_client, alice_project, bob):
    assign(bob, alice_project, "reader")
    response = alice_client.get(f"/projects/{alice_project.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "alice" in html and "bob" in html
    assert 'id="project-quotas"' in html
    assert 'id="my-quotas"' in html  # compute.ram has a per-user limit


def test_project_detail_is_404_when_project_foreign(alice_client, bob):
    foreign = Project.objects.get(name="bob-project")
    assert alice_client.get(f"/projects/{foreign.pk}/").status_code == 404
    assert alice_client.get("/projects/no-such-id/").status_code == 404


def test_switch_project_changes_current_when_member(alice, alice_client):
    other = ProjectFactory(name="second")
    assign(alice, other, "member")
    response = alice_client.post("/switch-project/", {"project_id": other.pk, "next": "/api-access/"})
    assert response.status_code == 302
    assert response["Location"] == "/api-access/"
    assert alice_client.session[SESSION_PROJECT] == other.pk
    assert b"Project: <strong>second</strong>" in alice_client.get("/").content


def test_switch_project_is_404_when_project_foreign(alice_client, bob):
    foreign = Project.objects.get(name="bob-project")
    assert alice_client.post("/switch-project/", {"project_id": foreign.pk}).status_code == 404
    assert SESSION_PROJECT not in alice_client.session


def test_switch_project_ignores_next_when_offsite(alice, alice_client, alice_project):
    response = alice_client.post("/switch-project/", {"project_id": alice_project.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_apply_page_lists_declared_resources_when_rendered(alice_client):
    html = alice_client.get("/projects/apply/").content.decode()
    assert 'name="limit__compute.cores"' in html
    assert 'name="limit__compute.ram"' in html


def test_apply_creates_pending_application_when_form_valid(alice, alice_client):
    data = {"name": "research", "description": "GPU work", "limit__compute.cores": "16", "limit__compute.ram": "1024"}
    response = alice_client.post("/projects/apply/", data)
    assert response.status_code == 302
    app = ProjectApplication.objects.get(name="research")
    assert app.applicant == alice
    assert app.state == ProjectApplication.State.PENDING
    assert app.requested_limits == {"compute.cores": 16, "compute.ram": 1024}
    html = alice_client.get("/projects/apply/").content.decode()
    assert f'id="application-{app.pk}"' in html and "pending" in html


def test_apply_shows_error_when_project_name_taken(alice_client, bob):
    data = {"name": "bob-project", "limit__compute.cores": "1", "limit__compute.ram": "1"}
    response = alice_client.post("/projects/apply/", data)
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert not ProjectApplication.objects.exists()


def test_apply_shows_error_when_limit_negative(alice_client):
    data = {"name": "research", "limit__compute.cores": "-1", "limit__compute.ram": "1"}
    response = alice_client.post("/projects/apply/", data)
    assert response.status_code == 200
    assert b"is-invalid" in response.content
    assert not ProjectApplication.objects.exists()


def test_cancel_application_cancels_when_mine(alice, alice_client):
    app = ProjectApplication.objects.create(applicant=alice, name="research")
    response = alice_client.post(f"/projects/applications/{app.pk}/cancel/")
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == ProjectApplication.State.CANCELLED


def test_cancel_application_is_404_when_not_mine(alice_client, bob):
    app = ProjectApplication.objects.create(applicant=bob, name="bobs")
    assert alice_client.post(f"/projects/applications/{app.pk}/cancel/").status_code == 404
    app.refresh_from_db()
    assert app.state == ProjectApplication.State.PENDING


def test_cancel_application_is_405_when_get(alice, alice_client):
    app = ProjectApplication.objects.create(applicant=alice, name="research")
    assert alice_client.get(f"/projects/applications/{app.pk}/cancel/").status_code == 405
