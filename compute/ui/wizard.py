"""The create-server wizard: one page choosing image, flavor, network, key pair, name and count,
and volumes to attach (existing ones, new blank ones: `wizard_volumes`), with the quota impact
(usage + this request vs. the limit for servers, vCPUs, RAM, disk, volumes and volume GiB) shown
before submitting and refreshed by htmx when the flavor, the count or a new volume's size changes.

The impact is a preview; the ledger decides when the servers are created (`create_servers`
charges them), and its refusal is shown on the form with the ledger's message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from compute.models import Flavor, Server
from compute.services import charges, flavors
from compute.services.servers import ServerRequest
from compute.ui import scope, wizard_volumes
from compute.ui.forms import MAX_COUNT, ServerCreateForm
from compute.volume.services import charges as volume_charges
from identity.models import Project
from identity.services import quotas
from identity.tokens import TokenContext
from portal.errors import DomainError, NotFound
from portal.ui.nav import render_page
from portal.ui.quota_bars import format_quantity

RESOURCES = (
    charges.SERVERS,
    charges.CORES,
    charges.RAM,
    charges.DISK,
    volume_charges.VOLUMES,
    volume_charges.GIB,
)


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


def quota_impact(project: Project, flavor: Flavor | None, count: int, volume_sizes: Sequence[int] = ()) -> list[Impact]:
    """The compute and volume resources before and after booting `count` servers of `flavor` with
    new volumes of `volume_sizes` GiB (existing volumes being attached change no quota)."""
    wanted = (
        charges.server_charges(flavor.vcpus, flavor.ram, flavor.disk + flavor.ephemeral, servers=1)
        if flavor is not None
        else {}
    )
    wanted = {name: qty * count for name, qty in wanted.items()}
    wanted[volume_charges.VOLUMES] = len(volume_sizes)
    wanted[volume_charges.GIB] = sum(volume_sizes)
    rows = {row["resource"]: row for row in quotas.usage(project) if row["resource"] in RESOURCES}
    return [
        Impact(
            resource=name,
            description=rows[name].get("description", "") or name,
            unit=rows[name].get("unit", ""),
            used=rows[name].get("usage", 0) + rows[name].get("pending", 0),
            request=wanted.get(name, 0),
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


def _impact_context(project: Project, flavor: Flavor | None, count: int, sizes: list[int]) -> dict[str, object]:
    rows = quota_impact(project, flavor, count, sizes)
    return {
        "impact": rows,
        "impact_over": any(r.over for r in rows),
        "impact_flavor": flavor,
        "impact_count": count,
        "impact_volumes": len(sizes),
        "impact_volume_gib": sum(sizes),
    }


@login_required
@require_http_methods(["GET", "POST"])
def server_create(request: HttpRequest) -> HttpResponse:
    """The wizard; POST boots the servers with their volumes (all or none) and goes to the new server or the list."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    ctx = scope.ctx_for(request, project)
    form = ServerCreateForm(request.POST or None, ctx=ctx, project=project, initial={"count": 1})
    volume_form = wizard_volumes.WizardVolumesForm(request.POST or None, project=project)
    status = 200
    if request.method == "POST":
        source: Any = request.POST
    else:
        choices = list(form.fields["flavor"].choices)
        source = {"flavor": choices[0][0]} if choices else {}
    flavor, count = _flavor_and_count(source, ctx)
    if request.method == "POST":
        valid = all([form.is_valid(), volume_form.is_valid()])  # both, so both show their errors
        if valid:
            volume_form.check_fits(flavor, form.cleaned_data["count"])
            valid = volume_form.is_valid()
        if valid:
            made = _boot(request, ctx, project, form, volume_form)
            if isinstance(made, int):
                status = made
            else:
                names = ", ".join(server.name for server in made)
                picks = volume_form.picks()
                extra = f" Its {len(picks.existing) + len(picks.new)} volume(s) are attached once it is ACTIVE."
                messages.success(request, f"Building {names}." + (extra if picks else ""))
                if len(made) == 1:
                    return redirect("cloud_server", made[0].pk)
                return redirect("cloud_servers")
        else:
            status = 400
    context = {
        "form": form,
        "volume_form": volume_form,
        **_impact_context(project, flavor, count, wizard_volumes.new_sizes(source)),
    }
    return render_page(request, "compute/server_create.html", context, status=status)


def _boot(
    request: HttpRequest,
    ctx: TokenContext,
    project: Project,
    form: ServerCreateForm,
    volume_form: wizard_volumes.WizardVolumesForm,
) -> list[Server] | int:
    """Boot what the valid forms ask for; the servers, or the HTTP status of the refusal shown on the form."""
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
        return wizard_volumes.boot(ctx, spec, project, volume_form.picks(), actor=request.user)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return exc.status


@login_required
@require_GET
def quota_preview(request: HttpRequest) -> HttpResponse:
    """The quota impact panel for `?flavor=&count=&vol-size_N=` (the partial the wizard re-fetches)."""
    project = scope.project_of(request)
    ctx = scope.ctx_for(request, project)
    flavor, count = _flavor_and_count(request.GET, ctx)
    context = _impact_context(project, flavor, count, wizard_volumes.new_sizes(request.GET))
    return render(request, "compute/_quota_impact.html", context)
