"""The portal REST API under /api/: scoping, permissions, quotas, applications, audit and faults."""

from __future__ import annotations

import pytest
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator

from identity.models import Project, ProjectApplication, RoleAssignment
from identity.quota_models import Holding
from identity.services import applications, quotas
from portal.errors import Conflict, Forbidden, QuotaExceeded, ValidationFailed
from portal.models import AuditEvent
from tests.factories import ProjectFactory, UserFactory, assign
from tests.isolation import assert_isolated

pytestmark = pytest.mark.django_db


def assert_fault(response, status: int) -> dict:
    """The response is an OpenStack-style JSON fault with this status."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "title", "message"}
    assert error["code"] == status
    assert error["message"]
    return error


@pytest.fixture
def admin_project(admin_user) -> Project:
    return Project.objects.get(name="admin")


@pytest.fixture
def as_admin(api, token_for, admin_user, admin_project):
    return api(token_for(admin_user, admin_project, ("admin", "member", "reader")))


@pytest.fixture
def as_member(api, token_for, member, project):
    return api(token_for(member, project))


@pytest.fixture
def reader(project):
    user = UserFactory()
    assign(user, project, "reader")
    return user


@pytest.fixture
def as_reader(api, token_for, reader, project):
    return api(token_for(reader, project, ("reader",)))


@pytest.fixture
def other_project(db) -> Project:
    """Project B, whose member is someone else."""
    other = ProjectFactory(name="project-b")
    assign(UserFactory(name="b-user"), other, "member", "reader")
    return other


@pytest.mark.parametrize("token", [None, "not.a-token"], ids=["missing", "forged"])
def test_api_answers_401_fault_when_token_missing_or_forged(api, token):
    assert_fault(api(token).get("/api/projects/"), 401)


def test_projects_list_shows_only_member_projects_when_not_admin(as_member, project, other_project):
    body = as_member.get("/api/projects/").json()
    assert [p["id"] for p in body["results"]] == [project.pk]


def test_projects_list_shows_every_project_when_admin(as_admin, project, other_project):
    names = {p["name"] for p in as_admin.get("/api/projects/", {"limit": 50}).json()["results"]}
    assert {project.name, "project-b", "admin"} <= names


def test_project_detail_returns_project_when_member(as_member, project):
    body = as_member.get(f"/api/projects/{project.pk}/").json()
    assert (body["id"], body["name"], body["domain_id"]) == (project.pk, project.name, "default")


def test_members_lists_users_with_role_names_when_member(as_member, project, member, reader):
    body = as_member.get(f"/api/projects/{project.pk}/members/").json()
    by_id = {m["user_id"]: m for m in body}
    assert by_id[member.pk] == {"user_id": member.pk, "user_name": member.name, "roles": ["member", "reader"]}
    assert by_id[reader.pk]["roles"] == ["reader"]


def test_quotas_lists_limit_usage_and_pending_when_member(as_member, project, resources):
    quotas.accept(quotas.issue(project, {"test.cores": 3}, actor=None, client="t", client_key="a").serial)
    quotas.issue(project, {"test.cores": 2}, actor=None, client="t", client_key="b")
    rows = {r["resource"]: r for r in as_member.get(f"/api/projects/{project.pk}/quotas/").json()}
    assert rows["test.cores"] == {
        "resource": "test.cores",
        "limit": 10,
        "usage": 3,
        "pending": 2,
        "unit": "",
        "description": "Virtual CPUs",
    }
    assert rows["test.ram"]["limit"] == 4096


def test_quotas_shows_member_quota_when_user_id_given(as_member, project, member, resources):
    rows = as_member.get(f"/api/projects/{project.pk}/quotas/", {"user_id": member.pk}).json()
    assert [(r["resource"], r["limit"]) for r in rows if r["resource"].startswith("test.")] == [("test.cores", 4)]


def test_quotas_answers_400_when_user_id_not_a_member(as_member, project, other_project, resources):
    outsider = RoleAssignment.objects.filter(project=other_project).first().user
    assert_fault(as_member.get(f"/api/projects/{project.pk}/quotas/", {"user_id": outsider.pk}), 400)


def test_set_quota_changes_limit_and_audits_when_admin(as_admin, admin_user, project, resources):
    response = as_admin.put(f"/api/projects/{project.pk}/quotas/test.cores/", {"limit": 64}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["limit"] == 64
    assert Holding.objects.get(project=project, user=None, resource_id="test.cores").limit == 64
    event = AuditEvent.objects.get(action="quota.set_limit")
    assert (event.actor_id, event.project_id) == (admin_user.pk, project.pk)


def test_set_quota_changes_member_limit_when_user_id_given(as_admin, project, member, resources):
    response = as_admin.put(
        f"/api/projects/{project.pk}/quotas/test.ram/", {"limit": 128, "user_id": member.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Holding.objects.get(project=project, user=member, resource_id="test.ram").limit == 128


def test_set_quota_answers_403_when_not_admin(as_member, project, resources):
    assert_fault(as_member.put(f"/api/projects/{project.pk}/quotas/test.cores/", {"limit": 1}, format="json"), 403)
    assert not AuditEvent.objects.exists()


def test_set_quota_answers_404_when_resource_unknown(as_admin, project, resources):
    assert_fault(as_admin.put(f"/api/projects/{project.pk}/quotas/no.such/", {"limit": 1}, format="json"), 404)


def test_set_quota_answers_404_when_project_unknown(as_admin, resources):
    assert_fault(as_admin.put("/api/projects/nope/quotas/test.cores/", {"limit": 1}, format="json"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"limit": -1},
        {},
        {"limit": "many"},
        {"limit": 1.5},
        {"limit": 2**64},
        {"limit": 5, "user_id": "not-a-member"},
        [1, 2],
    ],
    ids=["negative", "missing", "text", "fraction", "huge", "non-member", "list"],
)
def test_set_quota_answers_400_when_body_invalid(as_admin, project, resources, body):
    response = as_admin.put(f"/api/projects/{project.pk}/quotas/test.cores/", body, format="json")
    assert_fault(response, 400)


def test_set_quota_answers_400_when_json_malformed(as_admin, project, resources):
    response = as_admin.put(
        f"/api/projects/{project.pk}/quotas/test.cores/", '{"limit": ', content_type="application/json"
    )
    assert "Malformed" in assert_fault(response, 400)["message"]


def test_set_quota_answers_415_when_body_not_json(as_admin, project, resources):
    response = as_admin.put(f"/api/projects/{project.pk}/quotas/test.cores/", "limit=5", content_type="text/plain")
    assert_fault(response, 415)


def test_resources_lists_declared_resources_when_authenticated(as_member, resources):
    names = [r["name"] for r in as_member.get("/api/resources/").json()["results"]]
    assert {"test.cores", "test.ram"} <= set(names)
    body = as_member.get("/api/resources/test.cores/").json()  # names with dots resolve
    assert (body["default_project_limit"], body["default_user_limit"]) == (10, 4)


def submit(client, **body):
    return client.post("/api/applications/", body, format="json")


def test_submit_application_answers_400_when_a_resource_name_holds_a_nul(as_member, resources):
    # PostgreSQL refuses NUL in text; found by the schemathesis run (tests/portal/test_openapi_fuzz.py).
    response = submit(as_member, name="lab", requested_limits={"test.\x00cores": 8})
    assert response.status_code == 400, response.content
    assert as_member.get("/api/applications/").status_code == 200


def test_submit_application_creates_pending_when_valid(as_member, member, resources):
    response = submit(as_member, name="lab", description="a lab", requested_limits={"test.cores": 8})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["applicant_id"], body["requested_limits"]) == ("pending", member.pk, {"test.cores": 8})
    assert AuditEvent.objects.filter(action="application.submit", actor_id=member.pk).exists()


def test_approve_application_creates_project_with_limits_and_roles_when_admin(as_admin, as_member, member, resources):
    app_id = submit(as_member, name="lab", requested_limits={"test.cores": 8}).json()["id"]
    response = as_admin.post(f"/api/applications/{app_id}/approve/", {"reason": "ok"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "approved"
    project = Project.objects.get(pk=body["project_id"])
    assert project.name == "lab"
    assert Holding.objects.get(project=project, user=None, resource_id="test.cores").limit == 8
    roles = set(RoleAssignment.objects.filter(project=project, user=member).values_list("role__name", flat=True))
    assert roles == {"member", "reader"}
    assert {p["name"] for p in as_member.get("/api/projects/").json()["results"]} >= {"lab"}
    assert AuditEvent.objects.filter(action="application.approve", project_id=project.pk).exists()


def test_approve_application_answers_409_when_already_decided(as_admin, as_member, resources):
    app_id = submit(as_member, name="lab").json()["id"]
    as_admin.post(f"/api/applications/{app_id}/deny/", {"reason": "no"}, format="json")
    assert_fault(as_admin.post(f"/api/applications/{app_id}/approve/", {}, format="json"), 409)


def test_approve_application_answers_403_when_not_admin(as_member, resources):
    app_id = submit(as_member, name="lab").json()["id"]
    assert_fault(as_member.post(f"/api/applications/{app_id}/approve/", {}, format="json"), 403)
    assert ProjectApplication.objects.get(pk=app_id).state == "pending"


def test_deny_application_records_reason_when_admin(as_admin, as_member, resources):
    app_id = submit(as_member, name="lab").json()["id"]
    body = as_admin.post(f"/api/applications/{app_id}/deny/", {"reason": "too big"}, format="json").json()
    assert (body["state"], body["reason"], body["project_id"]) == ("denied", "too big", None)


def test_cancel_application_cancels_when_applicant(as_member, resources):
    app_id = submit(as_member, name="lab").json()["id"]
    assert as_member.post(f"/api/applications/{app_id}/cancel/").json()["state"] == "cancelled"


def test_cancel_application_answers_403_when_admin_is_not_applicant(as_admin, as_member, resources):
    app_id = submit(as_member, name="lab").json()["id"]
    assert_fault(as_admin.post(f"/api/applications/{app_id}/cancel/"), 403)


def test_applications_list_shows_own_only_when_not_admin(as_member, as_admin, other_project, resources):
    other = applications.submit_application(UserFactory(name="someone"), "theirs", requested_limits={}, actor=None)
    mine = submit(as_member, name="mine").json()["id"]
    assert [a["id"] for a in as_member.get("/api/applications/").json()["results"]] == [mine]
    assert {a["id"] for a in as_admin.get("/api/applications/").json()["results"]} == {mine, other.pk}


def test_applications_filter_by_state_and_applicant_when_admin(as_admin, as_member, member, resources):
    kept = submit(as_member, name="kept").json()["id"]
    as_member.post(f"/api/applications/{submit(as_member, name='gone').json()['id']}/cancel/")
    found = as_admin.get("/api/applications/", {"state": "pending", "applicant_id": member.pk}).json()["results"]
    assert [a["id"] for a in found] == [kept]
    assert_fault(as_admin.get("/api/applications/", {"state": "bogus"}), 400)


def test_submit_application_answers_409_when_project_name_taken(as_member, project, resources):
    assert_fault(submit(as_member, name=project.name), 409)


@pytest.mark.parametrize(
    "body",
    [
        {"description": "no name"},
        {"name": ""},
        {"name": "x", "requested_limits": {"no.such": 1}},
        {"name": "x", "requested_limits": {"test.cores": -1}},
        {"name": "x", "requested_limits": {"test.cores": "lots"}},
        {"name": "x", "requested_limits": ["test.cores"]},
        {"name": "x" * 256},
    ],
    ids=["missing-name", "empty-name", "unknown-resource", "negative", "text-limit", "list-limits", "long-name"],
)
def test_submit_application_answers_400_when_body_invalid(as_member, resources, body):
    assert_fault(as_member.post("/api/applications/", body, format="json"), 400)
    assert not ProjectApplication.objects.exists()


def test_submit_application_answers_400_when_json_malformed(as_member, resources):
    response = as_member.post("/api/applications/", "{not json", content_type="application/json")
    assert_fault(response, 400)


def test_submit_application_answers_403_when_token_reader_only(as_reader, resources):
    assert_fault(submit(as_reader, name="lab"), 403)


def test_get_requests_allowed_when_token_reader_only(as_reader, project, resources):
    assert as_reader.get(f"/api/projects/{project.pk}/quotas/").status_code == 200


def test_approve_application_raises_conflict_when_name_taken_meanwhile(member, admin_user, resources):
    app = applications.submit_application(member, "lab", requested_limits={"test.cores": 2}, actor=member)
    ProjectFactory(name="lab")
    with pytest.raises(Conflict):
        applications.approve_application(app, actor=admin_user)
    app.refresh_from_db()
    assert app.state == ProjectApplication.State.PENDING


def test_approve_application_updates_the_given_object_when_approved(member, admin_user, resources):
    app = applications.submit_application(member, "lab", requested_limits={}, actor=member)
    returned = applications.approve_application(app, actor=admin_user, reason="fine")
    assert app.state == returned.state == ProjectApplication.State.APPROVED
    assert (app.decided_by_id, app.reason) == (admin_user.pk, "fine")
    assert AuditEvent.objects.filter(action="project.create", project_id=app.project_id).exists()


def test_cancel_application_raises_forbidden_when_actor_not_applicant(member, admin_user, resources):
    app = applications.submit_application(member, "lab", requested_limits={}, actor=member)
    with pytest.raises(Forbidden):
        applications.cancel_application(app, actor=admin_user)


def test_submit_application_raises_validation_failed_when_limit_is_bool(member, resources):
    with pytest.raises(ValidationFailed):
        applications.submit_application(member, "lab", requested_limits={"test.cores": True}, actor=member)


def test_audit_lists_events_with_filters_when_admin(as_admin, admin_user, project, resources):
    quotas.set_limit(project, "test.cores", 5, actor=admin_user)
    with pytest.raises(QuotaExceeded):
        quotas.issue(project, {"test.cores": 6}, actor=None, client="t", client_key="x")
    every = as_admin.get("/api/audit/").json()
    assert every["count"] == 2
    by_action = as_admin.get("/api/audit/", {"action": "quota.set_limit", "actor_id": admin_user.pk}).json()
    assert [e["action"] for e in by_action["results"]] == ["quota.set_limit"]
    failures = as_admin.get("/api/audit/", {"result": "failure", "project_id": project.pk}).json()
    assert [e["action"] for e in failures["results"]] == ["quota.issue"]
    assert as_admin.get("/api/audit/", {"time_after": "2999-01-01T00:00:00Z"}).json()["count"] == 0
    assert as_admin.get("/api/audit/", {"time_before": "2999-01-01T00:00:00Z"}).json()["count"] == 2


def test_audit_answers_403_when_not_admin(as_member):
    assert_fault(as_member.get("/api/audit/"), 403)


@pytest.mark.parametrize("params", [{"time_after": "yesterday"}, {"result": "maybe"}])
def test_audit_answers_400_when_filter_invalid(as_admin, params):
    assert_fault(as_admin.get("/api/audit/", params), 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/projects/{b}/"),
        ("get", "/api/projects/{b}/members/"),
        ("get", "/api/projects/{b}/quotas/"),
        ("get", "/api/applications/{app}/"),
        ("post", "/api/applications/{app}/cancel/"),
    ],
)
def test_foreign_objects_answer_404_when_caller_is_not_a_member(as_member, other_project, resources, method, path):
    b_user = RoleAssignment.objects.filter(project=other_project).first().user
    app = applications.submit_application(b_user, "b-lab", requested_limits={}, actor=b_user)
    response = getattr(as_member, method)(path.format(b=other_project.pk, app=app.pk))
    assert_fault(response, 404)
    assert set(response.json()) == {"error"}


def test_portal_api_never_shows_foreign_data_when_probed_by_outsider(api, as_member, member, token_for, project):
    b_user = UserFactory(name="b-secret-user")
    b_project = ProjectFactory(name="b-secret-project")
    assign(b_user, b_project, "member", "reader")
    app = applications.submit_application(b_user, "b-secret-app", requested_limits={}, actor=b_user)
    b, a = b_project.pk, app.pk
    probes = [
        ("GET", f"/api/projects/{b}/"),
        ("GET", f"/api/projects/{b}/members/"),
        ("GET", f"/api/projects/{b}/quotas/"),
        ("GET", f"/api/projects/{b}/quotas/?user_id={b_user.pk}"),
        ("PUT", f"/api/projects/{b}/quotas/test.cores/", {"limit": 1}),
        ("GET", f"/api/applications/{a}/"),
        ("POST", f"/api/applications/{a}/approve/", {}),
        ("POST", f"/api/applications/{a}/deny/", {"reason": "x"}),
        ("POST", f"/api/applications/{a}/cancel/", {}),
        ("GET", "/api/audit/"),
    ]
    forbidden = [b_user.pk, b_user.name, b_project.pk, b_project.name, "b-secret-app"]
    assert_isolated(api(), token_for(member, project), probes, forbidden)
    for listing in ("/api/projects/", "/api/applications/"):
        assert not any(value in as_member.get(listing).content.decode() for value in forbidden)
    assert ProjectApplication.objects.get(pk=a).state == ProjectApplication.State.PENDING


def test_schema_lists_portal_endpoints_when_generated():
    # Generated from this API's own routes, so another app's view cannot break this check.
    generator = SchemaGenerator(patterns=[path("api/", include("identity.api.portal.urls"))])
    paths = generator.get_schema(request=None, public=True)["paths"]
    for route in (
        "/api/projects/",
        "/api/projects/{id}/members/",
        "/api/projects/{id}/quotas/",
        "/api/projects/{id}/quotas/{resource}/",
        "/api/resources/",
        "/api/applications/",
        "/api/applications/{id}/approve/",
        "/api/audit/",
    ):
        assert route in paths
    audit_params = {p["name"] for p in paths["/api/audit/"]["get"]["parameters"]}
    assert {"actor_id", "action", "project_id", "result", "time_after", "time_before"} <= audit_params
