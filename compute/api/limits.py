"""`/limits`, `/os-quota-sets/{project}[/defaults|/detail]` (from the quota ledger) and
`/os-availability-zone[/detail]` (clusters as zones)."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api.base import NovaView, entity, no_content
from compute.services import quota_sets, zones
from identity.models import Project
from portal.errors import Forbidden, ValidationFailed


class QuotaBase(NovaView):
    """Which project a quota request is about: one's own, or any for an admin."""

    def project(self, project_id: str | None) -> Project:
        """The project, if the caller may see its quota (403 for another project's, 400 for unknown)."""
        ctx = self.ctx()
        wanted = project_id or ctx.project_id
        if wanted != ctx.project_id and not ctx.is_admin:
            raise Forbidden(f"Policy doesn't allow reading the quota of project {wanted}.")
        project = Project.objects.filter(pk=wanted).first()
        if project is None:
            raise ValidationFailed(f"Project ID {wanted} is not a valid project.")
        return project

    @property
    def network(self) -> bool:
        """Whether this microversion still shows the network quota fields (before 2.36)."""
        return not self.v("no_network_quotas")


class LimitsView(QuotaBase):
    """`GET /limits` (admins: `?tenant_id=`)."""

    def get(self, request: Request) -> Response:
        """The project's absolute limits and usage (no rate limits)."""
        project = self.project(request.query_params.get("tenant_id"))
        absolute = quota_sets.absolute_limits(
            project,
            network=self.network,
            image_meta=not self.v("no_image_limits"),
            personality=True,
        )
        return Response({"limits": {"rate": [], "absolute": absolute}})


class QuotaSetView(QuotaBase):
    """`GET|PUT|DELETE /os-quota-sets/{project_id}`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The project's limits; with `?user_id=` the same (no per-user limits exist, so a user's are the project's)."""
        return Response({"quota_set": quota_sets.quota_set(self.project(project_id), network=self.network)})

    def put(self, request: Request, project_id: str) -> Response:
        """Set limits (admin)."""
        self.require_admin()
        self._no_user(request)
        project = self.project(project_id)
        values = {k: v for k, v in entity(request, "quota_set").items() if k != "force"}
        quota_sets.set_quotas(project, values, network=self.network, actor=self.actor)
        body = quota_sets.quota_set(project, network=self.network)
        body.pop("id")
        return Response({"quota_set": body})

    def delete(self, request: Request, project_id: str) -> Response:
        """Back to the default limits (admin)."""
        self.require_admin()
        quota_sets.reset_quotas(self.project(project_id), actor=self.actor)
        return no_content(202)

    def _no_user(self, request: Request) -> None:
        if request.query_params.get("user_id"):
            raise ValidationFailed("Per-user quotas are not supported.")


class QuotaSetDefaultsView(QuotaBase):
    """`GET /os-quota-sets/{project_id}/defaults`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The default limits."""
        project = self.project(project_id)
        return Response({"quota_set": quota_sets.quota_set(project, network=self.network, defaults=True)})


class QuotaSetDetailView(QuotaBase):
    """`GET /os-quota-sets/{project_id}/detail`."""

    def get(self, request: Request, project_id: str) -> Response:
        """Limits with usage (`in_use`) and pending commissions (`reserved`)."""
        project = self.project(project_id)
        return Response({"quota_set": quota_sets.quota_set(project, network=self.network, detail=True)})


class ZonesView(NovaView):
    """`GET /os-availability-zone`."""

    def get(self, request: Request) -> Response:
        """The zones the project may boot in."""
        found = zones.zones_for(self.ctx().project_id)
        info = [{"zoneName": z.name, "zoneState": {"available": z.available}, "hosts": None} for z in found]
        return Response({"availabilityZoneInfo": info})


class ZonesDetailView(NovaView):
    """`GET /os-availability-zone/detail` (admin): every cluster with its nodes."""

    def get(self, request: Request) -> Response:
        """Zones with their hosts."""
        self.require_admin()
        found = zones.zones_for(self.ctx().project_id, every=True)
        hosts = zones.zone_hosts([z.name for z in found])
        info = [
            {"zoneName": z.name, "zoneState": {"available": z.available}, "hosts": hosts.get(z.name) or None}
            for z in found
        ]
        return Response({"availabilityZoneInfo": info})
