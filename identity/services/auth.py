"""Authentication: turn a Keystone v3 `auth` document into a signed token.

Methods: `password` (user by id, or by name + domain), `token` (rescope an existing token;
the new token keeps the old expiry) and `application_credential` (id, or name + user, plus secret).
Scope: a project by id or by name + domain, or none (unscoped, or the user's default project).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from identity import tokens
from identity.models import ApplicationCredential, Domain, Project, User
from identity.services.roles import role_names
from identity.tokens import TokenContext
from portal import audit
from portal.errors import NotFound, Unauthorized, ValidationFailed

AUTH_FAILED = "The request you have made requires authentication."


def _dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationFailed(f"Invalid input for field '{what}': expected an object.")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"Invalid input for field '{what}': expected a non-empty string.")
    return value


def _domain_of(spec: Any, what: str) -> Domain:
    spec = _dict(spec, what)
    try:
        if "id" in spec:
            return Domain.objects.get(pk=_str(spec["id"], f"{what}.id"))
        return Domain.objects.get(name=_str(spec.get("name"), f"{what}.name"))
    except Domain.DoesNotExist as exc:
        raise Unauthorized(AUTH_FAILED) from exc


def _user_of(spec: dict) -> User:
    try:
        if "id" in spec:
            return User.objects.select_related("domain").get(pk=_str(spec["id"], "user.id"))
        name = _str(spec.get("name"), "user.name")
        if "domain" not in spec:
            raise ValidationFailed(
                "Expecting to find domain in user. The server could not comply with the request "
                "since it is either malformed or otherwise incorrect."
            )
        domain = _domain_of(spec["domain"], "user.domain")
        return User.objects.select_related("domain").get(domain=domain, name=name)
    except User.DoesNotExist as exc:
        raise Unauthorized(AUTH_FAILED) from exc


def _check_enabled(user: User) -> None:
    if not user.is_active or not user.domain.enabled:
        raise Unauthorized(AUTH_FAILED)


def _password(method: dict) -> User:
    spec = _dict(_dict(method, "password").get("user"), "password.user")
    password = spec.get("password")
    if not isinstance(password, str):
        raise ValidationFailed("Invalid input for field 'password.user.password': expected a string.")
    user = _user_of(spec)
    if not user.check_password(password):
        audit.record(user, "auth.password", user, result="failure")
        raise Unauthorized(AUTH_FAILED)
    _check_enabled(user)
    return user


def _app_credential(method: dict) -> tuple[User, ApplicationCredential]:
    spec = _dict(method, "application_credential")
    secret = _str(spec.get("secret"), "application_credential.secret")
    try:
        if "id" in spec:
            cred = ApplicationCredential.objects.select_related("user__domain", "project").get(pk=spec["id"])
        else:
            user = _user_of(_dict(spec.get("user"), "application_credential.user"))
            cred = ApplicationCredential.objects.select_related("user__domain", "project").get(
                user=user, name=_str(spec.get("name"), "application_credential.name")
            )
    except ApplicationCredential.DoesNotExist as exc:
        raise Unauthorized(AUTH_FAILED) from exc
    if not check_password(secret, cred.secret_hash):
        raise Unauthorized(AUTH_FAILED)
    if cred.expires_at and cred.expires_at <= timezone.now():
        raise Unauthorized(AUTH_FAILED)
    _check_enabled(cred.user)
    return cred.user, cred


def _project_of(scope: dict) -> Project:
    spec = _dict(scope.get("project"), "scope.project")
    try:
        if "id" in spec:
            project = Project.objects.get(pk=_str(spec["id"], "scope.project.id"))
        else:
            name = _str(spec.get("name"), "scope.project.name")
            if "domain" not in spec:
                raise ValidationFailed("Expecting to find domain in project.")
            project = Project.objects.get(domain=_domain_of(spec["domain"], "scope.project.domain"), name=name)
    except Project.DoesNotExist as exc:
        raise Unauthorized(AUTH_FAILED) from exc
    if not project.enabled:
        raise Unauthorized(AUTH_FAILED)
    return project


def _context(
    user: User,
    project: Project | None,
    methods: list[str],
    *,
    roles: list[str] | None = None,
    expires_at: float | None = None,
    app_cred_id: str | None = None,
    parent_audit_id: str | None = None,
) -> TokenContext:
    now = time.time()
    if project is not None and roles is None:
        roles = role_names(user.pk, project.pk)
        if not roles:
            raise Unauthorized(f"User {user.pk} has no access to project {project.pk}.")
    ctx = TokenContext(
        user_id=user.pk,
        user_name=user.name,
        user_domain_id=user.domain_id,
        project_id=project.pk if project else None,
        project_name=project.name if project else None,
        project_domain_id=project.domain_id if project else None,
        roles=tuple(roles or ()),
        methods=tuple(methods),
        issued_at=now,
        expires_at=expires_at or now + settings.PORTAL_TOKEN_TTL,
        audit_id=tokens.new_audit_id(),
        app_cred_id=app_cred_id,
        parent_audit_id=parent_audit_id,
    )
    return ctx.__class__(**{**ctx.__dict__, "token": tokens.encode(ctx)})


def authenticate(auth: Any) -> TokenContext:
    """Validate a Keystone v3 `auth` document and return the new token's context (token included)."""
    auth = _dict(auth, "auth")
    identity = _dict(auth.get("identity"), "auth.identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
        raise ValidationFailed("Invalid input for field 'identity.methods': expected a non-empty list.")
    scope = auth.get("scope")
    if scope is not None and scope != "unscoped":
        scope = _dict(scope, "auth.scope")
        if "project" not in scope:
            raise ValidationFailed("Only project scope is supported (domain and system scope are not).")

    if "application_credential" in methods:
        user, cred = _app_credential(identity.get("application_credential"))
        if isinstance(scope, dict):
            raise ValidationFailed("Application credentials cannot request a scope.")
        current = set(role_names(user.pk, cred.project_id))
        roles = sorted(current & set(cred.roles.values_list("name", flat=True)))
        if not roles or not cred.project.enabled:
            raise Unauthorized(AUTH_FAILED)
        expires = cred.expires_at.timestamp() if cred.expires_at else None
        return _context(
            user,
            cred.project,
            ["application_credential"],
            roles=roles,
            app_cred_id=cred.pk,
            expires_at=min(filter(None, [expires, time.time() + settings.PORTAL_TOKEN_TTL])),
        )
    if "token" in methods:
        spec = _dict(identity.get("token"), "identity.token")
        try:
            old = tokens.validate(_str(spec.get("id"), "identity.token.id"))
        except Unauthorized as exc:
            # Keystone answers 404 (TokenNotFound) when the token to rescope is bad, expired or revoked.
            raise NotFound("Could not find token.") from exc
        if old.app_cred_id:
            raise Unauthorized("A token created with an application credential cannot be rescoped.")
        user = User.objects.select_related("domain").filter(pk=old.user_id).first()
        if user is None:
            raise Unauthorized(AUTH_FAILED)
        _check_enabled(user)
        project = _project_of(scope) if isinstance(scope, dict) else None
        return _context(
            user,
            project,
            ["token", *old.methods] if "token" not in old.methods else list(old.methods),
            expires_at=old.expires_at,
            parent_audit_id=old.audit_id,
        )
    if "password" in methods:
        user = _password(identity.get("password"))
        if isinstance(scope, dict):
            project = _project_of(scope)
        elif scope is None and user.default_project_id and role_names(user.pk, user.default_project_id):
            project = user.default_project if user.default_project.enabled else None
        else:
            project = None
        return _context(user, project, ["password"])
    raise Unauthorized(f"Unsupported authentication method(s): {', '.join(methods)}.")
