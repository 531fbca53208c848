"""Security groups and rules: the per-project `default` group, rule validation, CRUD.

Rules are stored and exposed exactly as Neutron would; whether they filter traffic depends on the
substrate (see docs/network.md: not enforced on the embedded host or the Ganeti lab).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from compute.network.models import SecurityGroup, SecurityGroupRule
from identity.models import Project
from portal import audit

from . import ipam
from .faults import bad_request, conflict, invalid

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"
PORT_PROTOCOLS = {"tcp", "udp", "udplite", "sctp", "dccp", "6", "17", "136", "132", "33"}
ICMP_PROTOCOLS = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}
ICMPV6 = {"icmpv6", "ipv6-icmp", "58"}
PROTOCOL_NAMES = {
    "ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ipip", "ipv6-encap", "ipv6-frag", "ipv6-icmp",
    "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp", "sctp", "tcp", "udp", "udplite", "vrrp",
}  # fmt: skip


@dataclass(frozen=True)
class RuleSpec:
    """A rule as requested (values already type-checked by the API)."""

    direction: str
    ethertype: str = "IPv4"
    protocol: str | int | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group: SecurityGroup | None = None
    description: str = ""


def ensure_default_group(project: Project, *, actor: Any) -> SecurityGroup:
    """The project's `default` group, made on first use with Neutron's four default rules."""
    existing = SecurityGroup.objects.filter(project=project, is_default=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            group = SecurityGroup.objects.create(
                project=project, name=DEFAULT_NAME, description=DEFAULT_DESCRIPTION, is_default=True
            )
            for ethertype in ("IPv4", "IPv6"):
                SecurityGroupRule.objects.create(
                    project=project, security_group=group, direction="egress", ethertype=ethertype
                )
                SecurityGroupRule.objects.create(
                    project=project, security_group=group, direction="ingress", ethertype=ethertype, remote_group=group
                )
            audit.record(actor, "security_group.create", group, detail={"default": True})
    except IntegrityError:
        # A concurrent first use made it; the unique constraint let exactly one through.
        return SecurityGroup.objects.get(project=project, is_default=True)
    return group


@transaction.atomic
def create_security_group(
    project: Project, *, name: str, description: str = "", stateful: bool = True, actor: Any
) -> SecurityGroup:
    """A new group with Neutron's egress-any rules (the name `default` is the project's own group)."""
    ensure_default_group(project, actor=actor)
    if name == DEFAULT_NAME:
        raise conflict("Default security group already exists.", "SecurityGroupDefaultAlreadyExists")
    group = SecurityGroup.objects.create(project=project, name=name, description=description, stateful=stateful)
    for ethertype in ("IPv4", "IPv6"):
        SecurityGroupRule.objects.create(project=project, security_group=group, direction="egress", ethertype=ethertype)
    audit.record(actor, "security_group.create", group, detail={"name": name})
    return group


@transaction.atomic
def update_security_group(group: SecurityGroup, changes: dict[str, Any], *, actor: Any) -> SecurityGroup:
    """Rename or re-describe a group (the default group keeps its name)."""
    if group.is_default and changes.get("name", DEFAULT_NAME) != DEFAULT_NAME:
        raise conflict("Updating default security group not allowed.", "SecurityGroupCannotUpdateDefault")
    if not group.is_default and changes.get("name") == DEFAULT_NAME:
        raise conflict("Default security group already exists.", "SecurityGroupDefaultAlreadyExists")
    for field in ("name", "description", "stateful"):
        if field in changes:
            setattr(group, field, changes[field])
    group.touch()
    group.save()
    audit.record(actor, "security_group.update", group, detail={"changes": sorted(changes)})
    return group


@transaction.atomic
def delete_security_group(group: SecurityGroup, *, actor: Any, is_admin: bool = False) -> None:
    """Delete a group unused by ports; only an admin may delete a project's default group."""
    if group.is_default and not is_admin:
        raise conflict("Insufficient rights for removing default security group.", "SecurityGroupCannotRemoveDefault")
    if group.ports.exists():
        raise conflict(f"Security Group {group.pk} in use.", "SecurityGroupInUse")
    audit.record(actor, "security_group.delete", group, detail={"name": group.name})
    group.delete()


def _protocol(value: str | int | None, ethertype: str) -> str | None:
    """The protocol as Neutron stores it: a lower-case name, a number 0-255 as text, or None for any."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "any"):
        return None
    if text.isdigit():
        if not 0 <= int(text) <= 255:
            raise bad_request(
                f"Security group rule protocol {value} not supported. Only protocol values "
                f"{sorted(PROTOCOL_NAMES)} and integer representations [0 to 255] are supported.",
                "SecurityGroupRuleInvalidProtocol",
            )
        text = str(int(text))
    elif text not in PROTOCOL_NAMES:
        raise bad_request(
            f"Security group rule protocol {value} not supported. Only protocol values "
            f"{sorted(PROTOCOL_NAMES)} and integer representations [0 to 255] are supported.",
            "SecurityGroupRuleInvalidProtocol",
        )
    if text in ICMPV6 and ethertype == "IPv4":
        raise bad_request(f"Protocol {value} is not supported for ethertype IPv4.", "SecurityGroupEthertypeConflict")
    return text


def _ports(protocol: str | None, low: int | None, high: int | None) -> None:
    """Neutron's port-range rules: ports need TCP-like protocols; ICMP takes type (min) and code (max)."""
    if low is None and high is None:
        return
    if protocol is None:
        raise bad_request(
            "Must also specify protocol if port range is given.", "SecurityGroupProtocolRequiredWithPorts"
        )
    if protocol in PORT_PROTOCOLS:
        for port in (low, high):
            if port is not None and not 1 <= port <= 65535:
                raise bad_request(f"Invalid value for port {port}.", "SecurityGroupInvalidPortValue")
        if low is None or high is None or low > high:
            raise bad_request(
                "For TCP/UDP protocols, port_range_min must be <= port_range_max", "SecurityGroupInvalidPortRange"
            )
        return
    if protocol in ICMP_PROTOCOLS:
        for name, value in (("type", low), ("code", high)):
            if value is not None and not 0 <= value <= 255:
                raise bad_request(
                    f"Invalid value for ICMP {name} (port_range_min/max) {value}.", "SecurityGroupInvalidIcmpValue"
                )
        if low is None and high is not None:
            raise bad_request(
                f"ICMP code (port-range-max) {high} is provided but ICMP type (port-range-min) is missing.",
                "SecurityGroupMissingIcmpType",
            )
        return
    raise bad_request(
        f"Invalid protocol {protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.",
        "SecurityGroupInvalidProtocolForPortRange",
    )


def _remote_prefix(value: str | None, ethertype: str) -> str | None:
    if value is None:
        return None
    prefix = ipam.parse_prefix(value)
    if f"IPv{prefix.version}" != ethertype:
        raise bad_request(
            f"Conflicting value ethertype {ethertype} for CIDR {value}", "SecurityGroupRuleParameterConflict"
        )
    return value


def normalized_cidr(rule: SecurityGroupRule) -> str | None:
    """The rule's remote prefix without host bits (Neutron's `normalized_cidr`)."""
    if rule.remote_ip_prefix is None:
        return None
    return str(ipaddress.ip_network(rule.remote_ip_prefix, strict=False))


@transaction.atomic
def create_rule(group: SecurityGroup, spec: RuleSpec, *, actor: Any) -> SecurityGroupRule:
    """Add a validated rule to `group`; an identical rule already there is 409 SecurityGroupRuleExists."""
    if spec.direction not in SecurityGroupRule.Direction.values:
        raise invalid(f"'{spec.direction}' is not in ['ingress', 'egress']")
    ethertype = {"ipv4": "IPv4", "ipv6": "IPv6"}.get(str(spec.ethertype).lower())
    if ethertype is None:
        raise invalid(f"'{spec.ethertype}' is not in ['IPv4', 'IPv6']")
    if spec.remote_ip_prefix is not None and spec.remote_group is not None:
        raise bad_request(
            "Only remote_ip_prefix or remote_group_id may be provided.", "SecurityGroupRemoteGroupAndRemoteIpPrefix"
        )
    protocol = _protocol(spec.protocol, ethertype)
    _ports(protocol, spec.port_range_min, spec.port_range_max)
    low, high = spec.port_range_min, spec.port_range_max
    prefix = _remote_prefix(spec.remote_ip_prefix, ethertype)
    SecurityGroup.objects.select_for_update().filter(pk=group.pk).exists()
    wanted = {
        "direction": spec.direction,
        "ethertype": ethertype,
        "protocol": protocol,
        "port_range_min": low,
        "port_range_max": high,
        "remote_group": spec.remote_group,
    }
    for existing in group.rules.filter(**wanted):
        if normalized_cidr(existing) == (str(ipaddress.ip_network(prefix, strict=False)) if prefix else None):
            raise conflict(f"Security group rule already exists. Rule id is {existing.pk}.", "SecurityGroupRuleExists")
    rule = SecurityGroupRule.objects.create(
        project_id=group.project_id,
        security_group=group,
        remote_ip_prefix=prefix,
        description=spec.description,
        **wanted,
    )
    group.touch()
    group.save(update_fields=["revision_number", "updated_at"])
    audit.record(actor, "security_group_rule.create", rule, detail={"security_group": str(group.pk)})
    return rule


@transaction.atomic
def delete_rule(rule: SecurityGroupRule, *, actor: Any) -> None:
    """Remove one rule from its group."""
    audit.record(actor, "security_group_rule.delete", rule, detail={"security_group": str(rule.security_group_id)})
    rule.delete()
