"""Networks: create (charging `network.networks` for non-external ones), update, delete; the public pool.

Provider attributes (`provider:network_type`, `provider:physical_network`,
`provider:segmentation_id`) are admin-only at the API; here they are validated and stored. The
physical network names the backend link (bridge / OVS switch) a server NIC on this network joins
(`Network.link`); see docs/network.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from compute.network.models import FloatingIP, Network, Port
from identity.models import Project
from portal import audit

from . import charges
from .faults import bad_request, conflict, invalid

NETWORK_TYPES = ("flat", "vlan", "vxlan", "geneve", "gre", "local")
_SEGMENT_RANGE = {"vlan": (1, 4094), "vxlan": (1, 2**24 - 1), "geneve": (1, 2**24 - 1), "gre": (1, 2**32 - 1)}
MTU_RANGE = (68, 9216)


@dataclass(frozen=True)
class NetworkSpec:
    """What a new network is made of (the API has already checked who may set which field)."""

    name: str = ""
    description: str = ""
    admin_state_up: bool = True
    shared: bool = False
    external: bool = False
    is_default: bool = False
    mtu: int | None = None
    port_security_enabled: bool = True
    network_type: str = ""
    physical_network: str = ""
    segmentation_id: int | None = None


def _check_segment(spec: NetworkSpec) -> None:
    """Provider attributes must describe a real segment (Neutron's type driver rules)."""
    kind, physnet, seg = spec.network_type, spec.physical_network, spec.segmentation_id
    if not kind:
        if physnet or seg is not None:
            raise invalid("provider:network_type required")
        return
    if kind not in NETWORK_TYPES:
        raise invalid(f"network_type value '{kind}' not supported")
    if kind in ("flat", "vlan") and not physnet:
        raise invalid(f"physical_network required for {kind} provider network")
    if kind not in ("flat", "vlan") and physnet:
        raise invalid(f"{kind} provider network does not take a physical_network")
    if kind in ("flat", "local"):
        if seg is not None:
            raise invalid(f"segmentation_id specified for {kind} provider network")
        return
    low, high = _SEGMENT_RANGE[kind]
    if seg is None and kind == "vlan":
        raise invalid("segmentation_id required for VLAN provider network")
    if seg is not None and not low <= seg <= high:
        raise invalid(f"segmentation_id out of range ({low} through {high})")


def check_mtu(mtu: Any) -> int:
    """An MTU Neutron would accept."""
    low, high = MTU_RANGE
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not low <= mtu <= high:
        raise invalid(f"'{mtu}' is not in range {low} through {high}")
    return mtu


def _default_taken(except_id: uuid.UUID | None = None) -> Network | None:
    return Network.objects.filter(is_default=True).exclude(pk=except_id).first()


def create_network(project: Project, spec: NetworkSpec, *, actor: Any) -> Network:
    """Record a network; a non-external one costs one `network.networks` of the project (409 OverQuota)."""
    _check_segment(spec)
    mtu = check_mtu(spec.mtu) if spec.mtu is not None else 1500
    if spec.is_default and not spec.external:
        raise invalid("is_default can only be set on an external network")
    network_id = uuid.uuid4()
    if spec.external:
        with transaction.atomic():
            return _insert(project, spec, network_id, mtu, charged=False, actor=actor)
    with charges.charged(project, charges.NETWORKS, network_id, actor=actor), transaction.atomic():
        return _insert(project, spec, network_id, mtu, charged=True, actor=actor)


def _insert(
    project: Project, spec: NetworkSpec, network_id: uuid.UUID, mtu: int, *, charged: bool, actor: Any
) -> Network:
    if spec.is_default and (other := _default_taken()):
        raise _default_exists(network_id, other)
    try:
        with transaction.atomic():
            network = Network.objects.create(
                id=network_id,
                project=project,
                name=spec.name,
                description=spec.description,
                admin_state_up=spec.admin_state_up,
                shared=spec.shared,
                external=spec.external,
                is_default=spec.is_default,
                mtu=mtu,
                port_security_enabled=spec.port_security_enabled,
                network_type=spec.network_type,
                physical_network=spec.physical_network,
                segmentation_id=spec.segmentation_id,
                quota_charged=charged,
            )
    except IntegrityError:
        if spec.is_default and (other := _default_taken()):
            raise _default_exists(network_id, other) from None
        raise conflict(
            f"Unable to create the network. The segment {spec.network_type} {spec.segmentation_id} on physical "
            f"network {spec.physical_network or '-'} is in use.",
            "SegmentationIdInUse",
        ) from None
    audit.record(actor, "network.create", network, detail={"name": spec.name, "external": spec.external})
    return network


def _default_exists(network_id: Any, other: Network) -> Exception:
    return conflict(
        f"Unable to set network {network_id} as default external network, default external network {other.pk} "
        "already exists.",
        "DefaultExternalNetworkExists",
    )


UPDATABLE = (
    "name",
    "description",
    "admin_state_up",
    "shared",
    "external",
    "is_default",
    "mtu",
    "port_security_enabled",
)


@transaction.atomic
def update_network(network: Network, changes: dict[str, Any], *, actor: Any) -> Network:
    """Change a network's name, description, state, sharing, external flag, default flag or MTU."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise bad_request(f"Cannot update read-only attribute(s) {', '.join(sorted(unknown))}")
    if "mtu" in changes:
        check_mtu(changes["mtu"])
    if changes.get("shared") is False and network.shared:
        foreign = Port.objects.filter(network=network).exclude(project_id=network.project_id).exists()
        if foreign:
            raise conflict(
                f"Unable to reconfigure sharing settings for network {network.pk}. Multiple tenants are using it.",
                "InvalidSharedSetting",
            )
    if changes.get("external") is False and network.external:
        if FloatingIP.objects.filter(floating_network=network).exists():
            raise conflict(
                f"External network {network.pk} cannot be updated to be internal: floating IPs use it.",
                "ExternalNetworkInUse",
            )
        changes = {**changes, "is_default": False}
    external = changes.get("external", network.external)
    if changes.get("is_default"):
        if not external:
            raise invalid("is_default can only be set on an external network")
        if other := _default_taken(network.pk):
            raise _default_exists(network.pk, other)
    for field, value in changes.items():
        setattr(network, field, value)
    network.touch()
    network.save()
    audit.record(actor, "network.update", network, detail={"changes": sorted(changes)})
    return network


@transaction.atomic
def delete_network(network: Network, *, actor: Any) -> None:
    """Delete a network and its subnets; 409 NetworkInUse while ports or floating IPs use it."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    if Port.objects.filter(network=network).exists() or FloatingIP.objects.filter(floating_network=network).exists():
        raise conflict(
            f"Unable to complete operation on network {network.pk}. There are one or more ports still in use on "
            "the network.",
            "NetworkInUse",
        )
    network_id, project_id, charged = network.pk, network.project_id, network.quota_charged
    audit.record(actor, "network.delete", network, detail={"name": network.name})
    network.subnets.all().delete()
    network.delete()
    if charged:
        charges.release_on_commit(project_id, charges.NETWORKS, network_id, actor=actor)
