"""The body of a Keystone v3 token response, built from a TokenContext.

The same function renders `POST /v3/auth/tokens` and `GET /v3/auth/tokens`, so that validating a
token returns exactly what issuing it did (tempest compares the two). Unscoped tokens carry no
project, roles or catalog, as in Keystone.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from identity.api.keystone.render import base_url, domain_ref
from identity.models import ApplicationCredential, Domain, Role
from identity.services import catalog
from identity.tokens import TokenContext, format_time


def _domains(ctx: TokenContext) -> dict[str, Domain]:
    ids = {ctx.user_domain_id, ctx.project_domain_id} - {None}
    return Domain.objects.in_bulk(list(ids))


def _domain(domains: dict[str, Domain], domain_id: str) -> dict[str, str]:
    found = domains.get(domain_id)
    return domain_ref(found) if found else {"id": domain_id, "name": domain_id}


def token_roles(ctx: TokenContext) -> list[dict[str, str]]:
    """The token's roles as `[{id, name}]`, in the token's order."""
    ids = dict(Role.objects.filter(name__in=ctx.roles).values_list("name", "id"))
    return [{"id": ids[name], "name": name} for name in ctx.roles if name in ids]


def token_catalog(request: HttpRequest, ctx: TokenContext) -> list[dict[str, Any]]:
    """The service catalog for the token's project, with URLs under the portal's public URL."""
    return catalog.catalog_for(ctx.project_id, base_url(request))


def token_body(request: HttpRequest, ctx: TokenContext, *, with_catalog: bool = True) -> dict[str, Any]:
    """`{"token": {...}}` as Keystone returns it for this token."""
    domains = _domains(ctx)
    token: dict[str, Any] = {
        "methods": list(ctx.methods),
        "user": {
            "id": ctx.user_id,
            "name": ctx.user_name,
            "domain": _domain(domains, ctx.user_domain_id),
            "password_expires_at": None,
        },
        "audit_ids": ctx.audit_ids,
        "issued_at": format_time(ctx.issued_at),
        "expires_at": format_time(ctx.expires_at),
    }
    if ctx.project_id:
        token["project"] = {
            "id": ctx.project_id,
            "name": ctx.project_name,
            "domain": _domain(domains, ctx.project_domain_id or ""),
        }
        token["is_domain"] = False
        token["roles"] = token_roles(ctx)
        if with_catalog:
            token["catalog"] = token_catalog(request, ctx)
    if ctx.app_cred_id:
        cred = ApplicationCredential.objects.filter(pk=ctx.app_cred_id).values("name", "unrestricted").first()
        if cred:
            token["application_credential"] = {
                "id": ctx.app_cred_id,
                "name": cred["name"],
                "restricted": not cred["unrestricted"],
            }
    return {"token": token}
