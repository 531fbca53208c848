"""The create-server wizard: one page choosing image, flavor, network, key pair, name and count,
with the quota impact (usage + this request vs. the limit for servers, vCPUs, RAM and disk)
shown before submitting and refreshed by htmx when the flavor or the count changes.

The impact is a preview; the ledger decides when the servers are created (`create_servers`
charges them), and its refusal is shown on the form with the ledger's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from compute.models import Flavor
from compute.services import charges, flavors
from compute.services.servers import ServerRequest, create_servers
from compute.ui import scope
from compute.ui.forms import MAX_COUNT, ServerCreateForm
from identity.models import Project
from identity.services import quotas
from identity.tokens import TokenContext
from portal.errors import DomainError, NotFound
from portal.ui.nav import render_page
from portal.ui.quota_bars import format_quantity

RESOURCES = (charges.SERVERS, charges.CORES, charges.RAM, charges.DISK)


@dataclass(frozen=True)
class Impact:
    """One resource: what the project holds (accepted + pending), what this request adds, the limit."""

    resource: str
    description: str
    unit: str
    used: int
    request: int
    limit: int | None

    @property
    def after(self) -> int:
        """The usage once the request is charged."""
        return self.used + self.request

    @property
    def over(self) -> bool:
        """Whether the request would pass the limit."""
        return self.limit is not None and self.after > self.limit

    def _pct(self, value: int) -> float:
        if self.limit is None:
            return 0.0
        if self.limit == 0:
            return 100.0 if value else 0.0
        return round(min(100.0, 100.0 * value / self.limit), 1)

    @property
    def used_pct(self) -> float:
        """Current usage as a share of the limit."""
        return self._pct(self.used)

    @property
    def request_pct(self) -> float:
        """The request's share of the limit, never past the bar's end."""
        return round(min(self._pct(self.request), 100.0 - self.used_pct), 1)

    @property
    def summary(self) -> str:
        """E.g. `2 + 1 of 20`."""
        return (
            f"{format_quantity(self.used, self.unit)} + {format_quantity(self.request, self.unit)}"
            f" of {format_quantity(self.limit, self.unit)}"
        )


def quota_impact(project: Project, flavor: Flavor | None, count: int) -> list[Impact]:
    """The four compute resources before and after booting `count` servers of `flavor`."""
    wanted = (
        charges.server_charges(flavor.vcpus, flavor.ram, flavor.disk + flavor.ephemeral, servers=1)
        if flavor is not None
        else {}
    )
    rows = {row["resource"]: row for row in quotas.usage(project) if row["resource"] in RESOURCES}
    return [
        Impact(
            resource=name,
            description=rows[name].get("description", "") or name,
            unit=rows[name].get("unit", ""),
            used=rows[name].get("usage", 0) + rows[name].get("pending", 0),
            request=wanted.get(name, 0) * count,
            limit=rows[name].get("limit"),
        )
        for name in RESOURCES
        if name in rows
    ]


def _flavor_and_count(source: Any, ctx: TokenContext) -> tuple[Flavor | None, int]:
    try:
        count = max(1, min(int(source.get("count") or 1), MAX_COUNT))
    except ValueError:
        count = 1
    flavor_id = source.get("flavor") or ""
    try:
        flavor = flavors.get_visible(ctx, flavor_id) if flavor_id else None
    except NotFound:
        flavor = None
    return flavor, count


def _impact_context(project: Project, flavor: Flavor | None, count: int) -> dict[str, object]:
    rows = quota_impact(project, flavor, count)
    return {"impact": rows, "impact_over": any(r.over for r in rows), "impact_flavor": flavor, "impact_count": count}


@login_required
@require_http_methods(["GET", "POST"])
def server_create(request: HttpRequest) -> HttpResponse:
    """The wizard; POST boots the servers (all or none) and goes to the new server or the list."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    ctx = scope.ctx_for(request, project)
    form = ServerCreateForm(request.POST or None, ctx=ctx, project=project, initial={"count": 1})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            spec = ServerRequest(
                name=data["name"],
                flavor_ref=data["flavor"],
                image_ref=data["image"],
                networks=form.networks_value(),
                key_name=data["key_name"] or None,
                min_count=data["count"],
                max_count=data["count"],
            )
            try:
                made, _reservation = create_servers(ctx, spec, actor=request.user)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                names = ", ".join(server.name for server in made)
                messages.success(request, f"Building {names}.")
                if len(made) == 1:
                    return redirect("cloud_server", made[0].pk)
                return redirect("cloud_servers")
        else:
            status = 400
    if request.method == "POST":
        source: dict = request.POST
    else:
        choices = list(form.fields["flavor"].choices)
        source = {"flavor": choices[0][0]} if choices else {}
    flavor, count = _flavor_and_count(source, ctx)
    context = {"form": form, **_impact_context(project, flavor, count)}
    return render_page(request, "compute/server_create.html", context, status=status)


@login_required
@require_GET
def quota_preview(request: HttpRequest) -> HttpResponse:
    """The quota impact panel for `?flavor=&count=` (the partial the wizard re-fetches)."""
    project = scope.project_of(request)
    ctx = scope.ctx_for(request, project)
    flavor, count = _flavor_and_count(request.GET, ctx)
    return render(request, "compute/_quota_impact.html", _impact_context(project, flavor, count))
