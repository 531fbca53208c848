"""Legacy Keystone v2.0 token issue: `POST /identity/v2.0/tokens`, for clients that only speak v2.

The v2 request (passwordCredentials or token, plus tenantName/tenantId) is translated into a v3
`auth` document for the one authentication service, and the token is rendered in v2's `access`
shape. Users and tenants are in the Default domain; without a tenant the token is unscoped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone.base import PublicView, body_entity
from identity.api.keystone.token_body import token_catalog, token_roles
from identity.models import DEFAULT_DOMAIN_ID, Project
from identity.services import auth
from identity.tokens import TokenContext, format_time
from portal.errors import ValidationFailed

_INTERFACE_KEYS = {"public": "publicURL", "internal": "internalURL", "admin": "adminURL"}


def v3_auth_document(v2_auth: dict[str, Any]) -> dict[str, Any]:
    """Translate a v2 `auth` object into the equivalent v3 one."""
    domain = {"id": DEFAULT_DOMAIN_ID}
    if isinstance(v2_auth.get("passwordCredentials"), dict):
        creds = v2_auth["passwordCredentials"]
        user: dict[str, Any] = {"password": creds.get("password"), "domain": domain}
        if "userId" in creds:
            user["id"] = creds["userId"]
        else:
            user["name"] = creds.get("username")
        identity: dict[str, Any] = {"methods": ["password"], "password": {"user": user}}
    elif isinstance(v2_auth.get("token"), dict):
        identity = {"methods": ["token"], "token": {"id": v2_auth["token"].get("id")}}
    else:
        raise ValidationFailed("Expecting to find passwordCredentials or token in auth.")
    if v2_auth.get("tenantId"):
        scope: Any = {"project": {"id": v2_auth["tenantId"]}}
    elif v2_auth.get("tenantName"):
        scope = {"project": {"name": v2_auth["tenantName"], "domain": domain}}
    else:
        scope = "unscoped"
    return {"identity": identity, "scope": scope}


def v2_catalog(request: Request, ctx: TokenContext) -> list[dict[str, Any]]:
    """The v3 catalog folded into v2's `serviceCatalog` (one entry per region, URLs per interface)."""
    result = []
    for service in token_catalog(request, ctx):
        regions: dict[str, dict[str, Any]] = defaultdict(dict)
        for ep in service["endpoints"]:
            url = ep["url"]
            if service["type"] == "identity" and url.endswith("/v3"):
                url = url[: -len("/v3")] + "/v2.0"
            entry = regions[ep["region"]]
            entry.setdefault("region", ep["region"])
            entry[_INTERFACE_KEYS[ep["interface"]]] = url
            if ep["interface"] == "public":
                entry["id"] = ep["id"]
        if regions:
            result.append(
                {
                    "type": service["type"],
                    "name": service["name"],
                    "endpoints": list(regions.values()),
                    "endpoints_links": [],
                }
            )
    return result


def access_body(request: Request, ctx: TokenContext) -> dict[str, Any]:
    """`{"access": {...}}` as Keystone v2.0 returned it."""
    expires = datetime.fromtimestamp(ctx.expires_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    token: dict[str, Any] = {
        "id": ctx.token,
        "issued_at": format_time(ctx.issued_at),
        "expires": expires,
        "audit_ids": ctx.audit_ids,
    }
    roles = token_roles(ctx) if ctx.project_id else []
    if ctx.project_id:
        project = Project.objects.filter(pk=ctx.project_id).first()
        token["tenant"] = {
            "id": ctx.project_id,
            "name": ctx.project_name,
            "description": project.description if project else "",
            "enabled": project.enabled if project else True,
        }
    return {
        "access": {
            "token": token,
            "serviceCatalog": v2_catalog(request, ctx) if ctx.project_id else [],
            "user": {
                "id": ctx.user_id,
                "name": ctx.user_name,
                "username": ctx.user_name,
                "roles": [{"name": r["name"]} for r in roles],
                "roles_links": [],
            },
            "metadata": {"is_admin": 0, "roles": [r["id"] for r in roles]},
        }
    }


class V2TokensView(PublicView):
    """`POST /identity/v2.0/tokens`."""

    def post(self, request: Request) -> Response:
        """Authenticate and return a v2 `access` document (200, as v2.0 did)."""
        ctx = auth.authenticate(v3_auth_document(body_entity(request, "auth")))
        return Response(access_body(request, ctx))
