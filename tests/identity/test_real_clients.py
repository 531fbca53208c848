"""Real OpenStack clients against a live portal: keystoneauth1, python-keystoneclient and the `openstack` CLI."""

from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import generic, v2, v3
from keystoneclient.v3 import client as keystone_v3

from tests.live import LivePortal

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SERVICE_PATHS = {
    "identity": "/identity/v3",
    "compute": "/compute/v2.1",
    "image": "/image",
    "volumev3": "/volume/v3/{project}",
    "block-storage": "/volume/v3/{project}",
    "network": "/network",
    "object-store": "/v1/AUTH_{project}",
}


def admin_session(portal: LivePortal) -> ks_session.Session:
    """A keystoneauth session as the bootstrapped admin on the admin project."""
    return portal.session()


def test_keystoneauth_gets_token_and_every_endpoint_when_password_auth(portal):
    sess = admin_session(portal)
    assert sess.get_token()
    project_id = sess.get_project_id()
    assert project_id and sess.get_user_id()
    for service_type, path in SERVICE_PATHS.items():
        expected = portal.url + path.format(project=project_id)
        assert sess.get_endpoint(service_type=service_type, interface="public") == expected, service_type
    assert sess.get_endpoint(service_type="identity", interface="admin") == f"{portal.url}/identity/v3"


def test_keystoneauth_discovers_v3_when_auth_url_unversioned(portal):
    auth = generic.Password(
        auth_url=f"{portal.url}/identity",
        username=portal.admin_name,
        password=portal.admin_password,
        project_name=portal.admin_project,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    sess = ks_session.Session(auth=auth)
    assert sess.get_token()
    assert isinstance(auth._plugin, v3.Password)


def test_keystoneauth_unauthorized_when_password_wrong(portal):
    auth = v3.Password(
        auth_url=portal.auth_url,
        username=portal.admin_name,
        password="wrong",
        user_domain_id="default",
        project_name=portal.admin_project,
        project_domain_id="default",
    )
    with pytest.raises(ks_exceptions.Unauthorized):
        ks_session.Session(auth=auth).get_token()


def test_keystoneauth_v2_token_works_when_legacy_endpoint_used(portal):
    auth = v2.Password(
        auth_url=f"{portal.url}/identity/v2.0",
        username=portal.admin_name,
        password=portal.admin_password,
        tenant_name=portal.admin_project,
    )
    sess = ks_session.Session(auth=auth)
    assert sess.get_token()
    assert sess.get_endpoint(service_type="compute", interface="public") == f"{portal.url}/compute/v2.1"


def test_keystoneclient_lists_projects_creates_user_and_grants_role_when_admin(portal):
    client = keystone_v3.Client(session=admin_session(portal), interface="public")
    assert portal.admin_project in [p.name for p in client.projects.list()]
    project = client.projects.create(name="kc-project", domain="default", description="made by keystoneclient")
    user = client.users.create(name="kc-user", password="kc-user-pass", domain="default", email="kc@example.org")
    member = client.roles.find(name="member")
    client.roles.grant(member, user=user, project=project)
    assert [r.name for r in client.roles.list(user=user, project=project)] == ["member"]
    client.roles.check(member, user=user, project=project)
    assignments = client.role_assignments.list(user=user, include_names=True)
    assert [(a.role["name"], a.scope["project"]["name"]) for a in assignments] == [("member", "kc-project")]
    assert client.users.get(user.id).email == "kc@example.org"
    as_user = keystone_v3.Client(session=portal.session("kc-user", "kc-user-pass", "kc-project"), interface="public")
    assert [p.name for p in as_user.projects.list(user=user.id)] == ["kc-project"]
    with pytest.raises(ks_exceptions.Forbidden):
        as_user.users.list()
    client.roles.revoke(member, user=user, project=project)
    assert client.roles.list(user=user, project=project) == []


def test_keystoneclient_validates_and_revokes_token_when_admin(portal):
    sess = admin_session(portal)
    client = keystone_v3.Client(session=sess, interface="public")
    other = admin_session(portal).get_token()
    access = client.tokens.validate(other)
    assert access.user_id == sess.get_user_id()
    client.tokens.revoke_token(other)
    with pytest.raises(ks_exceptions.NotFound):
        client.tokens.validate(other)


def test_cli_token_issue_prints_project_and_expiry_when_admin(openstack, portal):
    token = openstack("token", "issue", "-f", "json").json()
    assert token["id"] and token["expires"]
    assert len(token["project_id"]) == 32 and len(token["user_id"]) == 32


def test_cli_project_list_includes_admin_project_when_admin(openstack, portal):
    names = [p["Name"] for p in openstack("project", "list", "-f", "json").json()]
    assert portal.admin_project in names


def test_cli_user_and_role_assignment_round_trip_when_admin(openstack, clouds, portal):
    openstack("project", "create", "--domain", "default", "cli-project")
    created = openstack(
        "user",
        "create",
        "--domain",
        "default",
        "--password",
        "cli-user-pass",
        "--email",
        "cli@example.org",
        "cli-user",
        "-f",
        "json",
    ).json()
    assert created["name"] == "cli-user" and created["enabled"] is True
    openstack("role", "add", "--project", "cli-project", "--user", "cli-user", "member")
    rows = openstack("role", "assignment", "list", "--project", "cli-project", "--names", "-f", "json").json()
    assert [(r["Role"], r["User"], r["Project"]) for r in rows] == [
        ("member", "cli-user@Default", "cli-project@Default")
    ]

    clouds.add_user("cli-user", "cli-user", "cli-user-pass", "cli-project")
    token = openstack("token", "issue", "-f", "json", cloud="cli-user").json()
    assert token["user_id"] == created["id"]
    # GET /v3/projects is admin-only: the CLI falls back to the user's own projects, as with Keystone.
    own = openstack("project", "list", "-f", "json", cloud="cli-user").json()
    assert [p["Name"] for p in own] == ["cli-project"]
    denied = openstack("user", "list", cloud="cli-user", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr


def test_cli_application_credential_authenticates_when_created(openstack, clouds):
    cred = openstack("application", "credential", "create", "cli-cred", "-f", "json").json()
    assert cred["Secret"] and cred["Project ID"]
    assert sorted(r["name"] for r in cred["Roles"]) == ["admin", "member", "reader"]
    clouds.add_app_credential("appcred", cred["ID"], cred["Secret"])
    token = openstack("token", "issue", "-f", "json", cloud="appcred").json()
    assert token["project_id"] == cred["Project ID"]
    listed = openstack("application", "credential", "list", "-f", "json").json()
    assert [c["Name"] for c in listed] == ["cli-cred"]
    openstack("application", "credential", "delete", "cli-cred")
    refused = openstack("token", "issue", cloud="appcred", check=False)
    assert refused.returncode != 0


def test_cli_catalog_list_shows_every_service_when_admin(openstack, portal):
    rows = openstack("catalog", "list", "-f", "json").json()
    by_type = {row["Type"]: row for row in rows}
    assert set(by_type) == set(SERVICE_PATHS)
    identity = by_type["identity"]["Endpoints"]
    endpoints = identity if isinstance(identity, str) else str(identity)
    assert f"{portal.url}/identity/v3" in endpoints
