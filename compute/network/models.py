"""Neutron's data: networks, subnets, ports and their IP allocations, floating IPs, security groups.

The database holds the invariants that must survive concurrency: an address is handed out at most
once per subnet (`IPAllocation` unique on subnet + address), a MAC address at most once (unique),
one default security group and one auto-allocated network per project, one floating IP per
(port, fixed IP). Every object belongs to a project; `visible_to(ctx)` querysets give what a
token may read, so a foreign object and a missing one look the same (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from identity.models import Project


class Status(models.TextChoices):
    """Operational status shared by networks, ports and floating IPs (Neutron's words)."""

    ACTIVE = "ACTIVE"
    DOWN = "DOWN"
    BUILD = "BUILD"
    ERROR = "ERROR"


class Stamped(models.Model):
    """Neutron's standard attributes: id, project, description, timestamps, revision number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    description = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    revision_number = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def touch(self) -> None:
        """Mark a change: a new revision and update time (callers save)."""
        self.revision_number += 1
        self.updated_at = timezone.now()


class NetworkQuerySet(models.QuerySet):
    """Queries over networks."""

    def visible_to(self, ctx: Any) -> NetworkQuerySet:
        """Admins see all; others their project's networks and every shared or external one."""
        if ctx.is_admin:
            return self
        return self.filter(Q(project_id=ctx.project_id) | Q(shared=True) | Q(external=True))


class Network(Stamped):
    """An L2 network: private to a project, shared with all, or external (the floating IP pool)."""

    name = models.CharField(max_length=255, blank=True, default="")
    admin_state_up = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    shared = models.BooleanField(default=False)
    external = models.BooleanField(default=False, help_text="router:external: floating IPs come from here.")
    is_default = models.BooleanField(default=False, help_text="The default external network.")
    mtu = models.PositiveIntegerField(default=1500)
    port_security_enabled = models.BooleanField(default=True)
    network_type = models.CharField(max_length=16, blank=True, default="", help_text="provider:network_type")
    physical_network = models.CharField(max_length=64, blank=True, default="", help_text="provider:physical_network")
    segmentation_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="provider:segmentation_id")
    auto_allocated = models.BooleanField(default=False, help_text="The project's auto-allocated network.")
    quota_charged = models.BooleanField(default=False, help_text="Counted in network.networks (released on delete).")

    objects = NetworkQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=Q(auto_allocated=True), name="network_one_auto_allocated_per_project"
            ),
            models.UniqueConstraint(
                fields=["network_type", "physical_network", "segmentation_id"],
                condition=Q(segmentation_id__isnull=False),
                name="network_segment_unique",
            ),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="network_one_default"),
            models.CheckConstraint(condition=Q(is_default=False) | Q(external=True), name="network_default_external"),
        ]

    def __str__(self) -> str:
        return self.name or str(self.id)

    @property
    def link(self) -> str:
        """The L2 segment a backend NIC on this network joins: the provider physical network, else "default"."""
        return self.physical_network or "default"


class SubnetQuerySet(models.QuerySet):
    """Queries over subnets."""

    def visible_to(self, ctx: Any) -> SubnetQuerySet:
        """Admins see all; others their own subnets and those of shared or external networks."""
        if ctx.is_admin:
            return self
        return self.filter(Q(project_id=ctx.project_id) | Q(network__shared=True) | Q(network__external=True))


class Subnet(Stamped):
    """An IPv4 or IPv6 range on a network, with the pools addresses are allocated from."""

    class IPVersion(models.IntegerChoices):
        V4 = 4, "IPv4"
        V6 = 6, "IPv6"

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="subnets")
    name = models.CharField(max_length=255, blank=True, default="")
    ip_version = models.PositiveSmallIntegerField(choices=IPVersion.choices)
    cidr = models.CharField(max_length=64)
    gateway_ip = models.CharField(max_length=64, null=True, blank=True)
    enable_dhcp = models.BooleanField(default=True)
    allocation_pools = models.JSONField(default=list, help_text='[{"start": ip, "end": ip}], inside the cidr.')
    dns_nameservers = models.JSONField(default=list)
    host_routes = models.JSONField(default=list, help_text='[{"destination": cidr, "nexthop": ip}]')
    ipv6_ra_mode = models.CharField(max_length=32, null=True, blank=True)
    ipv6_address_mode = models.CharField(max_length=32, null=True, blank=True)

    objects = SubnetQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name or self.cidr


class SecurityGroupQuerySet(models.QuerySet):
    """Queries over security groups."""

    def visible_to(self, ctx: Any) -> SecurityGroupQuerySet:
        """Admins see all; others their project's groups."""
        return self if ctx.is_admin else self.filter(project_id=ctx.project_id)


class SecurityGroup(Stamped):
    """A named set of rules a port can carry (stored and exposed; see docs/network.md on enforcement)."""

    name = models.CharField(max_length=255, blank=True, default="")
    is_default = models.BooleanField(default=False)
    stateful = models.BooleanField(default=True)

    objects = SecurityGroupQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=Q(is_default=True), name="security_group_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.id)


class SecurityGroupRuleQuerySet(models.QuerySet):
    """Queries over security group rules."""

    def visible_to(self, ctx: Any) -> SecurityGroupRuleQuerySet:
        """Admins see all; others their project's rules."""
        return self if ctx.is_admin else self.filter(project_id=ctx.project_id)


class SecurityGroupRule(Stamped):
    """One allow rule of a security group: direction, ethertype, protocol, ports, remote prefix or group."""

    class Direction(models.TextChoices):
        INGRESS = "ingress"
        EGRESS = "egress"

    class Ethertype(models.TextChoices):
        IPV4 = "IPv4"
        IPV6 = "IPv6"

    security_group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE, related_name="rules")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    ethertype = models.CharField(max_length=4, choices=Ethertype.choices)
    protocol = models.CharField(max_length=40, null=True, blank=True)
    port_range_min = models.PositiveIntegerField(null=True, blank=True)
    port_range_max = models.PositiveIntegerField(null=True, blank=True)
    remote_ip_prefix = models.CharField(max_length=64, null=True, blank=True)
    remote_group = models.ForeignKey(
        SecurityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="referencing_rules"
    )

    objects = SecurityGroupRuleQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.ethertype} {self.protocol or 'any'}"


class PortQuerySet(models.QuerySet):
    """Queries over ports."""

    def visible_to(self, ctx: Any) -> PortQuerySet:
        """Admins see all; others their project's ports and the ports on their project's networks."""
        if ctx.is_admin:
            return self
        return self.filter(Q(project_id=ctx.project_id) | Q(network__project_id=ctx.project_id))


class Port(Stamped):
    """A virtual NIC on a network: MAC address, fixed IPs, security groups, and what it is bound to."""

    network = models.ForeignKey(Network, on_delete=models.RESTRICT, related_name="ports")
    name = models.CharField(max_length=255, blank=True, default="")
    mac_address = models.CharField(max_length=17, unique=True)
    admin_state_up = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DOWN)
    device_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    device_owner = models.CharField(max_length=255, blank=True, default="")
    port_security_enabled = models.BooleanField(default=True)
    security_groups = models.ManyToManyField(SecurityGroup, blank=True, related_name="ports")
    allowed_address_pairs = models.JSONField(default=list)
    binding_host_id = models.CharField(max_length=255, blank=True, default="")
    binding_vnic_type = models.CharField(max_length=32, default="normal")
    binding_profile = models.JSONField(default=dict)
    server_owned = models.BooleanField(default=False, help_text="Created for a server; deleted with it.")

    objects = PortQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name or str(self.id)


class FloatingIPQuerySet(models.QuerySet):
    """Queries over floating IPs."""

    def visible_to(self, ctx: Any) -> FloatingIPQuerySet:
        """Admins see all; others their project's floating IPs."""
        return self if ctx.is_admin else self.filter(project_id=ctx.project_id)


class FloatingIP(Stamped):
    """A public address from an external network, optionally mapped to a port's fixed IP."""

    floating_network = models.ForeignKey(Network, on_delete=models.RESTRICT, related_name="floating_ips")
    floating_ip_address = models.CharField(max_length=64)
    port = models.ForeignKey(Port, null=True, blank=True, on_delete=models.SET_NULL, related_name="floating_ips")
    fixed_ip_address = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DOWN)

    objects = FloatingIPQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["port", "fixed_ip_address"],
                condition=Q(port__isnull=False),
                name="floating_ip_one_per_fixed_ip",
            ),
        ]

    def __str__(self) -> str:
        return self.floating_ip_address


class IPAllocation(models.Model):
    """One address of a subnet handed to a port or a floating IP; the unique pair makes allocation race-free."""

    subnet = models.ForeignKey(Subnet, on_delete=models.RESTRICT, related_name="allocations")
    ip_address = models.CharField(max_length=64)
    port = models.ForeignKey(Port, null=True, blank=True, on_delete=models.CASCADE, related_name="allocations")
    floating_ip = models.ForeignKey(
        FloatingIP, null=True, blank=True, on_delete=models.CASCADE, related_name="allocations"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subnet", "ip_address"], name="ip_allocation_unique_per_subnet"),
            models.CheckConstraint(
                condition=(Q(port__isnull=False) & Q(floating_ip__isnull=True))
                | (Q(port__isnull=True) & Q(floating_ip__isnull=False)),
                name="ip_allocation_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.ip_address
