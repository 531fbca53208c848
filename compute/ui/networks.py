"""Network pages: the project's networks with their subnets (create a private network with its first
subnet, add or delete a subnet, delete a network) and the shared and external networks it can see.

Changes go through `compute.network.services`; their refusals (network in use, overlapping CIDR,
over quota) are shown as messages.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from compute.network.models import Network, Subnet
from compute.network.services import ipam
from compute.network.services.networks import NetworkSpec, create_network, delete_network
from compute.network.services.subnets import SubnetSpec, create_subnet, delete_subnet
from compute.ui import scope
from identity.models import Project
from portal.errors import DomainError
from portal.ui.forms import BootstrapFormMixin
from portal.ui.nav import render_page

DEFAULT_CIDR = "192.168.10.0/24"


class SubnetForm(BootstrapFormMixin, forms.Form):
    """A subnet: an IPv4 or IPv6 CIDR, a name, DHCP on or off."""

    subnet_name = forms.CharField(required=False, max_length=255, label="Subnet name")
    cidr = forms.CharField(max_length=64, label="CIDR", initial=DEFAULT_CIDR)
    enable_dhcp = forms.BooleanField(required=False, initial=True, label="DHCP")

    def clean_cidr(self) -> str:
        """A canonical CIDR (Neutron's message otherwise)."""
        try:
            return str(ipam.parse_cidr(self.cleaned_data["cidr"]))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def spec(self) -> SubnetSpec:
        """The service's subnet spec."""
        data = self.cleaned_data
        version = 6 if ":" in data["cidr"] else 4
        return SubnetSpec(
            cidr=data["cidr"], ip_version=version, name=data["subnet_name"], enable_dhcp=data["enable_dhcp"]
        )


class NetworkForm(SubnetForm):
    """A new private network and its first subnet."""

    name = forms.CharField(max_length=255, label="Network name")
    field_order = ("name", "cidr", "subnet_name", "enable_dhcp")


def _with_subnets(rows: QuerySet[Network]) -> QuerySet[Network]:
    return rows.prefetch_related(Prefetch("subnets", queryset=Subnet.objects.order_by("created_at", "id")))


def own_network(project: Project, network_id: str) -> Network:
    """A network of the project (404 otherwise, also for shared or external networks of others)."""
    network = Network.objects.filter(project=project, pk=scope.as_uuid(network_id)).first()
    if network is None:
        raise Http404("No such network")
    return network


@login_required
@require_GET
def network_list(request: HttpRequest) -> HttpResponse:
    """The project's networks and the shared or external ones it may use."""
    project = scope.project_of(request)
    own = _with_subnets(Network.objects.filter(project=project).order_by("created_at", "id"))
    others = _with_subnets(
        Network.objects.filter(Q(shared=True) | Q(external=True)).exclude(project=project).order_by("name", "id")
    )
    context = {
        "own": list(own),
        "others": list(others),
        "form": NetworkForm(),
        "subnet_form": SubnetForm(initial={"cidr": "", "enable_dhcp": True}),
        "can_write": scope.can_write(request, project),
    }
    return render_page(request, "compute/networks.html", context)


def _errors(form: forms.Form) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_POST
def network_create(request: HttpRequest) -> HttpResponse:
    """Create a private network with its first subnet (the CIDR is checked before anything is made)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    form = NetworkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("cloud_networks")
    try:
        network = create_network(project, NetworkSpec(name=form.cleaned_data["name"]), actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
        return redirect("cloud_networks")
    try:
        create_subnet(project, network, form.spec(), actor=request.user)
    except DomainError as exc:
        # The network is useless without its subnet: take it back (and its quota unit).
        delete_network(network, actor=request.user)
        scope.report(request, exc)
        return redirect("cloud_networks")
    messages.success(request, f"Network {network.name} was created.")
    return redirect("cloud_networks")


@login_required
@require_POST
def network_delete(request: HttpRequest, network_id: str) -> HttpResponse:
    """Delete a network and its subnets (refused while ports or floating IPs use it)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    network = own_network(project, network_id)
    try:
        delete_network(network, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Network {network} was deleted.")
    return redirect("cloud_networks")


@login_required
@require_POST
def subnet_create(request: HttpRequest, network_id: str) -> HttpResponse:
    """Add a subnet to one of the project's networks."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    network = own_network(project, network_id)
    form = SubnetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("cloud_networks")
    try:
        subnet = create_subnet(project, network, form.spec(), actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Subnet {subnet.cidr} was added to {network}.")
    return redirect("cloud_networks")


@login_required
@require_POST
def subnet_delete(request: HttpRequest, subnet_id: str) -> HttpResponse:
    """Delete a subnet of the project (refused while addresses of it are in use)."""
    project = scope.project_of(request)
    scope.require_write(request, project)
    subnet = Subnet.objects.filter(project=project, pk=scope.as_uuid(subnet_id)).first()
    if subnet is None:
        raise Http404("No such subnet")
    try:
        delete_subnet(subnet, actor=request.user)
    except DomainError as exc:
        scope.report(request, exc)
    else:
        messages.success(request, f"Subnet {subnet.cidr} was deleted.")
    return redirect("cloud_networks")
