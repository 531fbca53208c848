"""The authentication service: Keystone v3 auth documents in, signed token contexts out."""

from __future__ import annotations

import pytest

from identity import tokens
from identity.models import User
from identity.services import auth, users
from portal.errors import Unauthorized, ValidationFailed
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign


def password_doc(user, password=PASSWORD, scope=None, by_id=False):
    spec = {"id": user.pk} if by_id else {"name": user.name, "domain": {"id": "default"}}
    doc = {"identity": {"methods": ["password"], "password": {"user": {**spec, "password": password}}}}
    if scope is not None:
        doc["scope"] = scope
    return doc


@pytest.mark.django_db
def test_password_auth_scopes_to_project_when_named_with_domain(member, project):
    ctx = auth.authenticate(
        password_doc(member, scope={"project": {"name": project.name, "domain": {"name": "Default"}}})
    )
    assert ctx.project_id == project.pk and set(ctx.roles) == {"member", "reader"}
    assert tokens.validate(ctx.token).user_id == member.pk


@pytest.mark.django_db
def test_password_auth_by_user_id_is_unscoped_when_no_scope_and_no_default_project(member):
    ctx = auth.authenticate(password_doc(member, by_id=True))
    assert ctx.project_id is None and ctx.roles == ()


@pytest.mark.django_db
def test_password_auth_uses_default_project_when_no_scope(member, project):
    member.default_project = project
    member.save()
    assert auth.authenticate(password_doc(member)).project_id == project.pk


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["wrong_password", "unknown_user", "disabled", "pending"])
def test_password_auth_unauthorized_when_credentials_bad(member, case):
    if case in ("disabled", "pending"):
        member.status = {"disabled": User.Status.DISABLED, "pending": User.Status.PENDING}[case]
        member.save()
    if case == "unknown_user":
        member.name = "nobody"
    with pytest.raises(Unauthorized):
        auth.authenticate(password_doc(member, password="wrong" if case == "wrong_password" else PASSWORD))


@pytest.mark.django_db
def test_password_auth_unauthorized_when_scoped_to_foreign_or_unknown_project(member):
    foreign = ProjectFactory()
    for scope in (
        {"project": {"id": foreign.pk}},
        {"project": {"id": "nope"}},
        {"project": {"name": "nope", "domain": {"id": "default"}}},
    ):
        with pytest.raises(Unauthorized):
            auth.authenticate(password_doc(member, scope=scope))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        {"identity": None},
        {"identity": {"methods": []}},
        {"identity": {"methods": "password"}},
        {"identity": {"methods": ["password"], "password": {"user": {"name": "x", "password": "y"}}}},
        {"identity": {"methods": ["password"], "password": {"user": {"id": 5, "password": "y"}}}},
        {"identity": {"methods": ["password"], "password": "x"}},
    ],
)
def test_auth_bad_request_when_document_malformed(doc):
    with pytest.raises(ValidationFailed):
        auth.authenticate(doc)


@pytest.mark.django_db(transaction=True)
def test_token_rescope_keeps_expiry_and_chains_audit_ids(member, project):
    unscoped = auth.authenticate(password_doc(member))
    scoped = auth.authenticate(
        {"identity": {"methods": ["token"], "token": {"id": unscoped.token}}, "scope": {"project": {"id": project.pk}}}
    )
    assert scoped.project_id == project.pk
    assert scoped.expires_at == unscoped.expires_at
    assert scoped.audit_ids == [scoped.audit_id, unscoped.audit_id]


@pytest.mark.django_db(transaction=True)
def test_password_change_revokes_old_tokens_but_not_new_ones(member, project):
    old = auth.authenticate(password_doc(member, scope={"project": {"id": project.pk}}))
    users.change_own_password(member, PASSWORD, "new-password-1")
    with pytest.raises(Unauthorized):
        tokens.validate(old.token)
    new = auth.authenticate(password_doc(member, password="new-password-1", scope={"project": {"id": project.pk}}))
    assert tokens.validate(new.token).user_id == member.pk


@pytest.mark.django_db
def test_password_change_unauthorized_when_original_wrong(member):
    with pytest.raises(Unauthorized):
        users.change_own_password(member, "wrong", "new-password-1")


@pytest.mark.django_db(transaction=True)
def test_app_credential_auth_gives_project_token_until_deleted(member, project):
    from identity.services import app_credentials

    cred, secret = app_credentials.create_app_credential(member, project, "ci", actor=member)
    doc = {
        "identity": {"methods": ["application_credential"], "application_credential": {"id": cred.pk, "secret": secret}}
    }
    ctx = auth.authenticate(doc)
    assert ctx.project_id == project.pk and ctx.app_cred_id == cred.pk
    with pytest.raises(Unauthorized):
        auth.authenticate(
            {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": {"id": cred.pk, "secret": "bad"},
                }
            }
        )
    app_credentials.delete_app_credential(cred, actor=member)
    with pytest.raises(Unauthorized):
        tokens.validate(ctx.token)
    with pytest.raises(Unauthorized):
        auth.authenticate(doc)


@pytest.mark.django_db
def test_user_without_role_cannot_scope_even_with_right_password():
    user = UserFactory()
    project = ProjectFactory()
    assign(UserFactory(), project, "member")
    with pytest.raises(Unauthorized):
        auth.authenticate(password_doc(user, scope={"project": {"id": project.pk}}))


@pytest.mark.django_db
def test_failed_password_change_is_audited_when_original_wrong(member):
    from portal.models import AuditEvent

    with pytest.raises(Unauthorized):
        users.change_own_password(member, "wrong", "new-password-1")
    assert AuditEvent.objects.filter(action="user.change_password", result="failure", actor_id=member.pk).exists()
