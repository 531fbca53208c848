"""Token views: `/v3/auth/tokens` (issue, validate, check, revoke) and the `/v3/auth/*` listings."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from identity import tokens
from identity.api.keystone import policy, render
from identity.api.keystone.base import KeystoneView, body_entity, no_content
from identity.api.keystone.token_body import token_body, token_catalog
from identity.models import Project
from identity.services import auth, revocation
from identity.tokens import TokenContext
from portal.errors import Forbidden, NotFound, Unauthorized, ValidationFailed

SUBJECT_HEADER = "X-Subject-Token"


def _with_catalog(request: Request) -> bool:
    """Keystone leaves the catalog out when `?nocatalog` is present, whatever its value."""
    return "nocatalog" not in request.query_params


def subject_token(request: Request) -> TokenContext:
    """The validated token named by `X-Subject-Token`; 404 when it is bad, expired or revoked."""
    subject = request.headers.get(SUBJECT_HEADER, "").strip()
    if not subject:
        raise ValidationFailed(f"The {SUBJECT_HEADER} header is required.")
    try:
        return tokens.validate(subject)
    except Unauthorized as exc:
        raise NotFound(f"Could not find token: {subject[:16]}...") from exc


class AuthTokensView(KeystoneView):
    """`POST` issues a token (no X-Auth-Token needed); `GET`/`HEAD`/`DELETE` act on X-Subject-Token."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        """Issuing a token needs no token: an X-Auth-Token sent along is ignored, as in Keystone."""
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list[BasePermission]:
        """Anyone may try to authenticate; the other methods need a valid token."""
        if getattr(self.request, "method", None) == "POST":
            return [AllowAny()]
        return super().get_permissions()

    def post(self, request: Request) -> Response:
        """Authenticate an `auth` document and return the new token (201 + X-Subject-Token)."""
        ctx = auth.authenticate(body_entity(request, "auth"))
        response = Response(token_body(request, ctx, with_catalog=_with_catalog(request)), status=201)
        response[SUBJECT_HEADER] = ctx.token
        return response

    def get(self, request: Request) -> Response:
        """Validate the subject token and describe it."""
        subject = subject_token(request)
        policy.require_token_subject(self.ctx(), subject, "validate_token")
        response = Response(token_body(request, subject, with_catalog=_with_catalog(request)))
        response[SUBJECT_HEADER] = subject.token
        return response

    def head(self, request: Request) -> Response:
        """Check the subject token: 200 when valid, 404 otherwise."""
        subject = subject_token(request)
        policy.require_token_subject(self.ctx(), subject, "check_token")
        response = Response(status=200)
        response[SUBJECT_HEADER] = subject.token
        return response

    def delete(self, request: Request) -> Response:
        """Revoke the subject token."""
        subject = subject_token(request)
        policy.require_token_subject(self.ctx(), subject, "revoke_token")
        revocation.revoke_token(subject)
        return no_content()


class AuthCatalogView(KeystoneView):
    """`GET /v3/auth/catalog`: the catalog of the caller's project-scoped token."""

    def get(self, request: Request) -> Response:
        """Return the catalog, or 403 for an unscoped token (Keystone needs a scope to build one)."""
        ctx = self.ctx()
        if not ctx.project_id:
            raise Forbidden("A project-scoped token is required to produce a service catalog.")
        return Response({"catalog": token_catalog(request, ctx), "links": render.collection_links(request)})


class AuthProjectsView(KeystoneView):
    """`GET /v3/auth/projects`: the enabled projects the caller has a role on."""

    def get(self, request: Request) -> Response:
        """List the projects the caller may scope a token to."""
        projects = Project.objects.filter(assignments__user_id=self.ctx().user_id, enabled=True).distinct()
        return Response(render.collection(request, "projects", [render.project(request, p) for p in projects]))


class AuthDomainsView(KeystoneView):
    """`GET /v3/auth/domains`: domains the caller has a domain role on (none: roles are per project)."""

    def get(self, request: Request) -> Response:
        """List no domains."""
        return Response(render.collection(request, "domains", []))


class AuthSystemView(KeystoneView):
    """`GET /v3/auth/system`: system scopes available to the caller (none: no system scope here)."""

    def get(self, request: Request) -> Response:
        """List no system scopes."""
        return Response(render.collection(request, "system", []))
