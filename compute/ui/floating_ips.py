"""Floating IP pages: allocate one from an external network, associate it with a server's port,
disassociate it, release it. Changes go through `compute.network.services.floating_ips`."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from compute.models import Server
from compute.network.models import FloatingIP, Network, Port
from compute.network.services import floating_ips
from compute.ui import scope
from identity.models import Project
from portal.errors import DomainError
from portal.ui.forms import BootstrapFormMixin
from portal.ui.nav import render_page


def _device_uuid(device_id: str) -> uuid.UUID | None:
    """The server id a port's device_id names (None for other devices)."""
    try:
        return uuid.UUID(device_id)
    except ValueError:
        return None


def external_networks() -> list[Network]:
    """Networks floating IPs come from (the default one first)."""
    return list(Network.objects.filter(external=True).order_by("-is_default", "name", "id"))


def server_ports(project: Project) -> list[tuple[str, str]]:
    """(port id, "server — address") for every IPv4 address of the project's servers (three queries)."""
    ports = list(
        Port.objects.filter(project=project, device_owner__startswith="compute:")
        .exclude(network__external=True)
        .prefetch_related("allocations")
        .order_by("created_at", "id")
    )
    ids = [key for key in (_device_uuid(port.device_id) for port in ports) if key is not None]
    rows = Server.objects.for_project(project.pk).live().filter(pk__in=ids).values_list("id", "name")
    names = {str(pk): name for pk, name in rows}
    choices = []
    for port in ports:
        if port.device_id not in names:
            continue
        for allocation in port.allocations.all():
            if ":" not in allocation.ip_address:
                choices.append((str(port.pk), f"{names[port.device_id]} — {allocation.ip_address}"))
    return choices


class AllocateForm(BootstrapFormMixin, forms.Form):
    """Which external network the address comes from."""

    network = forms.ChoiceField(label="From network")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [(str(n.pk), n.name or str(n.pk)) for n in external_networks()]


class AssociateForm(BootstrapFormMixin, forms.Form):
    """Which server address the floating IP maps to."""

    port = forms.ChoiceField(label="Server address")

    def __init__(self, *args: object, project: Project, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["port"].choices = server_ports(project)


def own_fip(project: Project, fip_id: str) -> FloatingIP:
    """A floating IP of the project (404 otherwise)."""
    fip = FloatingIP.objects.filter(project=project, pk=scope.as_uuid(fip_id)).first()
    if fip is None:
        raise Http404("No such floating IP")
    return fip


@login_required
@require_GET
def fip_list(request: HttpRequest) -> HttpResponse:
    """The project's floating IPs with what each maps to."""
    project = scope.project_of(request)
    fips = list(
        FloatingIP.objects.filter(project=project).select_related("floating_network", "port").order_by("created_at")
    )
    keys = {fip.pk: _device_uuid(fip.port.device_id) if fip.port is not None else None for fip in fips}
    wanted = [key for key in keys.values() if key is not None]
    servers = dict(Server.objects.for_project(project.pk).live().filter(pk__in=wanted).values_list("id", "name"))
    rows = [(fip, servers.get(keys[fip.pk])) for fip in fips]
    can_write = scope.can_write(request, project)
    context = {
        "rows": rows,
        "allocate_form": AllocateForm() if can_write else None,
        "associate_form": AssociateForm(project=project) if can_write else None,
        "can_write": can_write,
    }
    return render_page(request, "compute/floating_ips.html", context)


@login_required
@require_POST
def fip_allocate(request: HttpRequest) -> HttpResponse:
    """Allocate a floating IP (one `network.floating_ips` of the quota)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    form = AllocateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an external network.")
        return redirect("cloud_fips")
    network = Network.objects.get(pk=form.cleaned_data["network"], external=True)
    try:
        fip = floating_ips.create_floating_ip(project, network, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Floating IP {fip.floating_ip_address} was allocated.")
    return redirect("cloud_fips")


@login_required
@require_POST
def fip_associate(request: HttpRequest, fip_id: str) -> HttpResponse:
    """Map a floating IP to one of the project's server addresses."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    fip = own_fip(project, fip_id)
    form = AssociateForm(request.POST, project=project)
    if not form.is_valid():
        messages.error(request, "Choose one of your servers' addresses.")
        return redirect("cloud_fips")
    port = Port.objects.get(pk=form.cleaned_data["port"], project=project)
    try:
        floating_ips.update_floating_ip(fip, port=port, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Floating IP {fip.floating_ip_address} was associated.")
    return redirect("cloud_fips")


@login_required
@require_POST
def fip_disassociate(request: HttpRequest, fip_id: str) -> HttpResponse:
    """Unmap a floating IP (it stays allocated to the project)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    fip = own_fip(project, fip_id)
    try:
        floating_ips.update_floating_ip(fip, port=None, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Floating IP {fip.floating_ip_address} was disassociated.")
    return redirect("cloud_fips")


@login_required
@require_POST
def fip_release(request: HttpRequest, fip_id: str) -> HttpResponse:
    """Give a floating IP back to the pool (and its quota unit to the project)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    fip = own_fip(project, fip_id)
    try:
        floating_ips.delete_floating_ip(fip, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Floating IP {fip.floating_ip_address} was released.")
    return redirect("cloud_fips")
