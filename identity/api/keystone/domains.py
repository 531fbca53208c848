"""Domain views: `/v3/domains` (admin) and `/v3/domains/{domain_id}` (admin, or a token in that domain).

Nefos has one domain, `default` ("Default"); domains are read-only through the API.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import KeystoneView, filter_query, get_or_404
from identity.models import Domain


class DomainsView(KeystoneView):
    """`GET /v3/domains` (filters: name, enabled)."""

    def get(self, request: Request) -> Response:
        """List domains."""
        policy.require_admin(self.ctx(), "list_domains")
        queryset = filter_query(request, Domain.objects.order_by("name"), {"name": "name", "enabled": "enabled"})
        return Response(render.collection(request, "domains", [render.domain(request, d) for d in queryset]))


class DomainView(KeystoneView):
    """`GET /v3/domains/{domain_id}`."""

    def get(self, request: Request, domain_id: str) -> Response:
        """Show a domain: admins any, others the domain of their user or of their token's project."""
        ctx = self.ctx()
        if domain_id not in (ctx.user_domain_id, ctx.project_domain_id):
            policy.require_admin(ctx, "get_domain")
        return Response({"domain": render.domain(request, get_or_404(Domain, domain_id, "domain"))})
