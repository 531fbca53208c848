"""`/v2.0/quotas` (Neutron's quota API over identity's ledger) and `/v2.0/auto-allocated-topology/{project}`.

`network` and `floatingip` map to the ledger resources `network.networks` and
`network.floating_ips`; the other Neutron resources are not limited here and show -1 (their
`used` counts are real). Setting a limit needs an admin; -1 means unlimited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.models import Network, Port, SecurityGroup, SecurityGroupRule, Subnet
from compute.network.services import charges
from compute.network.services import networks as network_service
from compute.network.services.faults import bad_request, policy
from compute.network.services.topology import auto_allocated_network
from identity.models import Project
from identity.quota_models import Holding, Resource
from identity.services import quotas
from portal.errors import Forbidden, NotFound

from .base import NeutronView, entity, integer

LEDGER = {name: resource for resource, name in charges.NEUTRON_NAMES.items()}
UNLIMITED = -1
COUNTED = {
    "subnet": Subnet,
    "port": Port,
    "security_group": SecurityGroup,
    "security_group_rule": SecurityGroupRule,
}
OTHERS = ("router", "rbac_policy", "subnetpool")


def _project(view: NeutronView, project_id: str) -> Project:
    """The project named in the URL: the caller's own, or any for an admin."""
    ctx = view.ctx()
    if project_id != ctx.project_id and not ctx.is_admin:
        raise Forbidden("Only admin is authorized to access quotas for another tenant", neutron_type="AdminRequired")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} could not be found.", neutron_type="HTTPNotFound")
    return project


def _shown(limit: int | None) -> int:
    return UNLIMITED if limit is None or limit >= quotas.MAX_QUANTITY else limit


def _rows(project: Project) -> dict[str, dict[str, Any]]:
    return {row["resource"]: row for row in quotas.usage(project)}


def limits(project: Project) -> dict[str, int]:
    """{neutron resource: limit} of a project."""
    rows = _rows(project)
    body = {name: _shown(rows.get(resource, {}).get("limit")) for name, resource in LEDGER.items()}
    body.update({name: UNLIMITED for name in (*COUNTED, *OTHERS)})
    return body


def details(project: Project) -> dict[str, dict[str, int]]:
    """{neutron resource: {limit, used, reserved}} of a project."""
    rows = _rows(project)
    body = {}
    for name, resource in LEDGER.items():
        row = rows.get(resource, {})
        body[name] = {"limit": _shown(row.get("limit")), "used": row.get("usage", 0), "reserved": row.get("pending", 0)}
    for name, model in COUNTED.items():
        body[name] = {"limit": UNLIMITED, "used": model.objects.filter(project=project).count(), "reserved": 0}
    for name in OTHERS:
        body[name] = {"limit": UNLIMITED, "used": 0, "reserved": 0}
    return body


class QuotasView(NeutronView):
    """`GET /quotas` (admin): projects whose network limits differ from the defaults."""

    def get(self, request: Request) -> Response:
        """List non-default quotas."""
        if not self.ctx().is_admin:
            raise policy("rule:get_quota")
        changed = (
            Holding.objects.filter(user=None, resource_id__in=LEDGER.values())
            .exclude(limit=F("resource__default_project_limit"))
            .values_list("project_id", flat=True)
            .distinct()
        )
        projects = Project.objects.filter(pk__in=list(changed)).order_by("pk")
        return Response({"quotas": [{"project_id": p.pk, "tenant_id": p.pk, **limits(p)} for p in projects]})


class QuotaView(NeutronView):
    """`GET/PUT/DELETE /quotas/{project_id}`."""

    def get(self, request: Request, project_id: str) -> Response:
        """A project's limits."""
        return Response({"quota": limits(_project(self, project_id))})

    def put(self, request: Request, project_id: str) -> Response:
        """Set limits (admin); only `network` and `floatingip` are limited here."""
        if not self.ctx().is_admin:
            raise policy("rule:update_quota")
        project = _project(self, project_id)
        for name, value in entity(request, "quota").items():
            if name in ("project_id", "tenant_id", "check_limit"):
                continue
            number = integer(name, value)
            if number < UNLIMITED:
                raise bad_request(f"Invalid input for {name}. Reason: '{value}' should be greater than or equal to -1.")
            if name in LEDGER:
                limit = quotas.MAX_QUANTITY if number == UNLIMITED else number
                quotas.set_limit(project, LEDGER[name], limit, actor=self.actor)
            elif name in COUNTED or name in OTHERS:
                if number != UNLIMITED:
                    raise bad_request(f"Quota for {name} is not limited by this cloud; only -1 is accepted.")
            else:
                raise bad_request(f"Unrecognized attribute(s) '{name}'")
        return Response({"quota": limits(project)})

    def delete(self, request: Request, project_id: str) -> Response:
        """Reset a project's limits to the defaults (admin)."""
        if not self.ctx().is_admin:
            raise policy("rule:delete_quota")
        project = _project(self, project_id)
        for resource in Resource.objects.filter(name__in=LEDGER.values()):
            quotas.set_limit(project, resource.name, resource.default_project_limit, actor=self.actor)
        return Response(status=204)


class QuotaDefaultView(NeutronView):
    """`GET /quotas/{project_id}/default`."""

    def get(self, request: Request, project_id: str) -> Response:
        """The default limits."""
        _project(self, project_id)
        defaults = dict(Resource.objects.filter(name__in=LEDGER.values()).values_list("name", "default_project_limit"))
        body = {name: _shown(defaults.get(resource)) for name, resource in LEDGER.items()}
        body.update({name: UNLIMITED for name in (*COUNTED, *OTHERS)})
        return Response({"quota": body})


class QuotaDetailsView(NeutronView):
    """`GET /quotas/{project_id}/details`."""

    def get(self, request: Request, project_id: str) -> Response:
        """Limits with usage."""
        return Response({"quota": details(_project(self, project_id))})


class AutoAllocatedTopologyView(NeutronView):
    """`GET/DELETE /auto-allocated-topology/{project_id}`: the project's auto-allocated network (no router)."""

    def get(self, request: Request, project_id: str) -> Response:
        """The project's auto-allocated network, made (and charged) on first request."""
        project = _project(self, project_id)
        existing = Network.objects.filter(project=project, auto_allocated=True).first()
        if existing is None and self.ctx().is_reader_only:
            raise policy("rule:get_auto_allocated_topology")
        network = existing or auto_allocated_network(project, actor=self.actor)
        return Response({"auto_allocated_topology": {"id": str(network.pk), "project_id": project.pk,
                                                     "tenant_id": project.pk}})  # fmt: skip

    def delete(self, request: Request, project_id: str) -> Response:
        """Delete the project's auto-allocated network (409 while ports use it)."""
        project = _project(self, project_id)
        network = Network.objects.filter(project=project, auto_allocated=True).first()
        if network is None:
            raise NotFound(f"Auto allocated topology of project {project_id} could not be found.")
        network_service.delete_network(network, actor=self.actor)
        return Response(status=204)
