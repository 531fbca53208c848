"""Neutron's named faults as `portal.errors` types (message and `NeutronError.type` as Neutron words them).

Clients and tempest match on the type (`IpAddressInUse`, `OverQuota`, ...) and show the message,
so every service raises these instead of bare errors.
"""

from __future__ import annotations

from typing import Any

from portal.errors import Conflict, Forbidden, NotFound, ValidationFailed

_NOT_FOUND = {
    "network": ("NetworkNotFound", "Network {} could not be found."),
    "subnet": ("SubnetNotFound", "Subnet {} could not be found."),
    "port": ("PortNotFound", "Port {} could not be found."),
    "floatingip": ("FloatingIPNotFound", "Floating IP {} could not be found"),
    "security_group": ("SecurityGroupNotFound", "Security group {} does not exist"),
    "security_group_rule": ("SecurityGroupRuleNotFound", "Security group rule {} does not exist"),
    "extension": ("ExtensionNotFound", "Extension with alias {} does not exist"),
}


def not_found(kind: str, ident: Any) -> NotFound:
    """`<Kind> <id> could not be found.` with Neutron's type for `kind` (a key of the table above)."""
    neutron_type, template = _NOT_FOUND[kind]
    return NotFound(template.format(ident), neutron_type=neutron_type)


def invalid(message: str) -> ValidationFailed:
    """Neutron's generic 400: `Invalid input for operation: <message>.`"""
    return ValidationFailed(f"Invalid input for operation: {message}", neutron_type="InvalidInput")


def bad_request(message: str, neutron_type: str = "HTTPBadRequest") -> ValidationFailed:
    """A 400 with a message of its own."""
    return ValidationFailed(message, neutron_type=neutron_type)


def conflict(message: str, neutron_type: str) -> Conflict:
    """A 409 with Neutron's type."""
    return Conflict(message, neutron_type=neutron_type)


def policy(action: str) -> Forbidden:
    """Neutron's policy refusal: `(rule:<action>) is disallowed by policy`."""
    return Forbidden(f"({action}) is disallowed by policy", neutron_type="PolicyNotAuthorized")


def over_quota(resource: str) -> Conflict:
    """Neutron's 409 OverQuota (`resource` is Neutron's name: network, floatingip)."""
    return Conflict(f"Quota exceeded for resources: ['{resource}'].", neutron_type="OverQuota")


def ip_in_use(network_id: Any, address: str) -> Conflict:
    """The requested fixed or floating address is taken."""
    return conflict(
        f"Unable to complete operation for network {network_id}. The IP address {address} is in use.",
        "IpAddressInUse",
    )


def no_more_ips(network_id: Any) -> Conflict:
    """Every pool of the network's candidate subnets is used up."""
    return conflict(f"No more IP addresses available on network {network_id}.", "IpAddressGenerationFailure")
