"""Isolation of the Keystone API: a member or reader of project A reaches nothing of user B or project B."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from identity.models import ApplicationCredential, Project, User
from identity.services import app_credentials, auth, catalog
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign, role
from tests.isolation import Probe, assert_isolated

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """Two projects: the caller `a` in `pa`; the foreign user `b` in `pb` with a credential and a token."""

    a: User
    pa: Project
    b: User
    pb: Project
    cred: ApplicationCredential
    b_token: str

    def forbidden(self) -> list[str]:
        """What must never reach the caller."""
        return [self.b.pk, self.b.name, self.b.email, self.pb.pk, self.pb.name, self.cred.pk, self.cred.name]


def login(user: User, project: Project) -> str:
    """A real token of `user` on `project`."""
    doc = {
        "identity": {"methods": ["password"], "password": {"user": {"id": user.pk, "password": PASSWORD}}},
        "scope": {"project": {"id": project.pk}},
    }
    return auth.authenticate(doc).token


@pytest.fixture
def world(db) -> World:
    catalog.seed_catalog("RegionOne")
    role("admin")
    pa, pb = ProjectFactory(name="alpha-project"), ProjectFactory(name="bravo-project")
    a, b = UserFactory(name="alpha-user"), UserFactory(name="bravo-user")
    assign(a, pa, "member", "reader")
    assign(b, pb, "member", "reader")
    cred, _ = app_credentials.create_app_credential(b, pb, "bravo-cred", actor=b)
    return World(a=a, pa=pa, b=b, pb=pb, cred=cred, b_token=login(b, pb))


V3 = "/identity/v3"
PROBES: dict[str, Callable[[World], Probe]] = {
    "list users": lambda w: Probe("GET", f"{V3}/users"),
    "find user by name": lambda w: Probe("GET", f"{V3}/users?name={w.b.name}"),
    "create user": lambda w: Probe("POST", f"{V3}/users", {"user": {"name": "intruder", "password": "intruder"}}),
    "show user": lambda w: Probe("GET", f"{V3}/users/{w.b.pk}"),
    "update user": lambda w: Probe("PATCH", f"{V3}/users/{w.b.pk}", {"user": {"email": "x@example.org"}}),
    "delete user": lambda w: Probe("DELETE", f"{V3}/users/{w.b.pk}"),
    "user projects": lambda w: Probe("GET", f"{V3}/users/{w.b.pk}/projects"),
    "list app creds": lambda w: Probe("GET", f"{V3}/users/{w.b.pk}/application_credentials"),
    "create app cred": lambda w: Probe(
        "POST", f"{V3}/users/{w.b.pk}/application_credentials", {"application_credential": {"name": "steal"}}
    ),
    "show app cred": lambda w: Probe("GET", f"{V3}/users/{w.b.pk}/application_credentials/{w.cred.pk}"),
    "show app cred via own url": lambda w: Probe("GET", f"{V3}/users/{w.a.pk}/application_credentials/{w.cred.pk}"),
    "delete app cred": lambda w: Probe("DELETE", f"{V3}/users/{w.b.pk}/application_credentials/{w.cred.pk}"),
    "delete app cred via own url": lambda w: Probe(
        "DELETE", f"{V3}/users/{w.a.pk}/application_credentials/{w.cred.pk}"
    ),
    "list projects": lambda w: Probe("GET", f"{V3}/projects"),
    "find project by name": lambda w: Probe("GET", f"{V3}/projects?name={w.pb.name}"),
    "create project": lambda w: Probe("POST", f"{V3}/projects", {"project": {"name": "intrusion"}}),
    "show project": lambda w: Probe("GET", f"{V3}/projects/{w.pb.pk}"),
    "update project": lambda w: Probe("PATCH", f"{V3}/projects/{w.pb.pk}", {"project": {"description": "x"}}),
    "delete project": lambda w: Probe("DELETE", f"{V3}/projects/{w.pb.pk}"),
    "list grants": lambda w: Probe("GET", f"{V3}/projects/{w.pb.pk}/users/{w.b.pk}/roles"),
    "check grant": lambda w: Probe("HEAD", f"{V3}/projects/{w.pb.pk}/users/{w.b.pk}/roles/{role('member').pk}"),
    "revoke grant": lambda w: Probe("DELETE", f"{V3}/projects/{w.pb.pk}/users/{w.b.pk}/roles/{role('member').pk}"),
    "grant self on foreign project": lambda w: Probe(
        "PUT", f"{V3}/projects/{w.pb.pk}/users/{w.a.pk}/roles/{role('member').pk}"
    ),
    "grant self admin": lambda w: Probe("PUT", f"{V3}/projects/{w.pa.pk}/users/{w.a.pk}/roles/{role('admin').pk}"),
    "assignments of user": lambda w: Probe("GET", f"{V3}/role_assignments?user.id={w.b.pk}&include_names"),
    "assignments on project": lambda w: Probe("GET", f"{V3}/role_assignments?scope.project.id={w.pb.pk}"),
    "list roles": lambda w: Probe("GET", f"{V3}/roles"),
    "create role": lambda w: Probe("POST", f"{V3}/roles", {"role": {"name": "superuser"}}),
    "delete role": lambda w: Probe("DELETE", f"{V3}/roles/{role('custom').pk}"),
    "validate foreign token": lambda w: Probe("GET", f"{V3}/auth/tokens", headers={"X-Subject-Token": w.b_token}),
    "check foreign token": lambda w: Probe("HEAD", f"{V3}/auth/tokens", headers={"X-Subject-Token": w.b_token}),
    "revoke foreign token": lambda w: Probe("DELETE", f"{V3}/auth/tokens", headers={"X-Subject-Token": w.b_token}),
    "list services": lambda w: Probe("GET", f"{V3}/services"),
    "list endpoints": lambda w: Probe("GET", f"{V3}/endpoints"),
    "list domains": lambda w: Probe("GET", f"{V3}/domains"),
}


@pytest.mark.parametrize("roles", [("member", "reader"), ("reader",)], ids=["member", "reader"])
@pytest.mark.parametrize("probe", list(PROBES), ids=list(PROBES))
def test_identity_endpoint_403_or_404_without_foreign_data_when_caller_outside(world, token_for, probe, roles):
    token = token_for(world.a, world.pa, roles)
    assert_isolated(APIClient(), token, [PROBES[probe](world)], world.forbidden())


def test_foreign_objects_untouched_when_every_probe_refused(world, token_for):
    token = token_for(world.a, world.pa)
    assert_isolated(APIClient(), token, [make(world) for make in PROBES.values()], world.forbidden())
    assert User.objects.filter(pk=world.b.pk, email=world.b.email).exists()
    assert Project.objects.filter(pk=world.pb.pk, description="").exists()
    assert ApplicationCredential.objects.filter(pk=world.cred.pk).exists()
    assert not User.objects.filter(name="intruder").exists()
    assert not world.a.assignments.filter(role__name="admin").exists()
    assert not world.a.assignments.filter(project=world.pb).exists()


def test_own_listings_hold_no_foreign_data_when_caller_lists_own(world, token_for):
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=token_for(world.a, world.pa))
    for url in (
        f"{V3}/auth/projects",
        f"{V3}/users/{world.a.pk}/projects",
        f"{V3}/users/{world.a.pk}",
        f"{V3}/users/{world.a.pk}/application_credentials",
        f"{V3}/auth/catalog",
        f"{V3}/regions",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        for value in world.forbidden():
            assert value not in response.content.decode(), (url, value)
