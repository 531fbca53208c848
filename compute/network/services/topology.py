"""Networks made by the cloud itself: the public (external) pool and each project's auto-allocated network.

`ensure_public_network` is for bootstrap: an admin-owned external network with one IPv4 subnet,
floating IPs come from it. `auto_allocated_network` is Neutron's "auto-allocated topology" reduced
to what Nefos has: a private network with one IPv4 subnet per project, made on first use (there
are no routers; see docs/network.md).
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from compute.network.models import Network, Subnet
from identity.models import DEFAULT_DOMAIN_ID, Project
from portal import audit
from portal.errors import NotFound

from . import charges
from .networks import NetworkSpec, create_network
from .subnets import SubnetSpec, create_subnet

AUTO_NETWORK_NAME = "auto_allocated_network"
AUTO_SUBNET_NAME = "auto_allocated_subnet"
AUTO_CIDR = "10.0.0.0/24"


def ensure_public_network(
    *, name: str = "public", cidr: str = "203.0.113.0/24", project: Project | None = None, actor: Any = None
) -> Network:
    """The external network `name` with a subnet `cidr` (made if missing; idempotent), owned by the admin project.

    It is not shared (members see it because it is external, and may take floating IPs from it but
    not plug ports into it); it becomes the default external network if there is none yet.
    """
    if project is None:
        project = Project.objects.filter(domain_id=DEFAULT_DOMAIN_ID, name="admin").first()
        if project is None:
            raise NotFound("The admin project does not exist; run bootstrap first.")
    with transaction.atomic():
        network = Network.objects.filter(project=project, name=name, external=True).first()
        if network is None:
            is_default = not Network.objects.filter(is_default=True).exists()
            network = create_network(project, NetworkSpec(name=name, external=True, is_default=is_default), actor=actor)
        wanted = ipaddress.ip_network(cidr)
        if not any(ipaddress.ip_network(s.cidr) == wanted for s in network.subnets.all()):
            create_subnet(
                project,
                network,
                SubnetSpec(cidr=cidr, ip_version=wanted.version, name=f"{name}-subnet", enable_dhcp=False),
                actor=actor,
            )
    return network


def auto_allocated_network(project: Project, *, actor: Any) -> Network:
    """The project's auto-allocated network (with subnet AUTO_CIDR), made and charged on first use.

    Concurrent first uses make exactly one: the loser's insert hits the unique constraint and it
    returns the winner's network (its own quota reservation is given back).
    """
    existing = Network.objects.filter(project=project, auto_allocated=True).first()
    if existing is not None:
        return existing
    network_id = uuid.uuid4()
    try:
        with charges.charged(project, charges.NETWORKS, network_id, actor=actor), transaction.atomic():
            network = Network.objects.create(
                id=network_id, project=project, name=AUTO_NETWORK_NAME, auto_allocated=True, quota_charged=True
            )
            audit.record(actor, "network.create", network, detail={"name": AUTO_NETWORK_NAME, "auto_allocated": True})
            create_subnet(project, network, SubnetSpec(cidr=AUTO_CIDR, name=AUTO_SUBNET_NAME), actor=actor)
    except IntegrityError:
        return Network.objects.get(project=project, auto_allocated=True)
    return network


def auto_allocated_subnets(network: Network) -> list[Subnet]:
    """The subnets of an auto-allocated network (for rendering Neutron's topology document)."""
    return list(network.subnets.all())
