"""Nova's quota sets and absolute limits, read from (and written to) identity's quota ledger.

`instances`, `cores`, `ram`, `server_groups` and `server_group_members` are the ledger's
compute.servers/cores/ram_mib/server_groups/server_group_members holdings (and, before microversion
2.36, `floating_ips` is network.floating_ips). `server_group_members` is a per-group limit (as in
Nova): its in_use is 0, the groups' members are counted at boot (services.server_groups). The
other items Nova lists have fixed values here (metadata items and key pairs are enforced with
them; injected files and security groups are not served by Nova here) and cannot be changed.
Nova's -1 (unlimited) is the ledger's largest limit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from compute.services import charges, server_groups
from identity.models import Project
from identity.quota_models import Resource
from identity.services import quotas
from portal.errors import ValidationFailed

UNLIMITED = quotas.MAX_QUANTITY
LEDGER = {
    "instances": charges.SERVERS,
    "cores": charges.CORES,
    "ram": charges.RAM,
    "server_groups": server_groups.GROUPS,
    "server_group_members": server_groups.MEMBERS,
}
# Limits that hold per group, not per project: shown with no usage.
PER_GROUP = {server_groups.MEMBERS}
LEDGER_NETWORK = {"floating_ips": "network.floating_ips"}
FIXED = {
    "metadata_items": 128,
    "key_pairs": 100,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
FIXED_NETWORK = {"fixed_ips": -1, "security_groups": 10, "security_group_rules": 20}


def _nova(limit: int | None) -> int:
    if limit is None or limit >= UNLIMITED:
        return -1
    return int(limit)


def _items(*, network: bool) -> dict[str, str]:
    return {**LEDGER, **(LEDGER_NETWORK if network else {})}


def _rows(project: Project) -> dict[str, dict[str, Any]]:
    return {row["resource"]: row for row in quotas.usage(project)}


def quota_set(project: Project, *, network: bool, detail: bool = False, defaults: bool = False) -> dict[str, Any]:
    """The project's quota set (`detail`: {limit, in_use, reserved} per item; `defaults`: the defaults)."""
    rows = {} if defaults else _rows(project)
    resources = {r.name: r for r in Resource.objects.filter(name__in=_items(network=True).values())}
    result: dict[str, Any] = {"id": project.pk}
    for item, resource in _items(network=network).items():
        row = rows.get(resource)
        default = resources[resource].default_project_limit if resource in resources else 0
        limit = _nova(row["limit"] if row else default)
        if detail:
            counted = row is not None and resource not in PER_GROUP
            used, pending = (row["usage"], row["pending"]) if counted else (0, 0)
            result[item] = {"limit": limit, "in_use": used, "reserved": pending}
        else:
            result[item] = limit
    fixed = {**FIXED, **(FIXED_NETWORK if network else {})}
    for item, value in fixed.items():
        result[item] = {"limit": value, "in_use": 0, "reserved": 0} if detail else value
    return result


def parse_limit(item: str, value: Any) -> int:
    """A quota-set limit as OpenStack clients send it (-1 = unlimited) as a ledger limit; 400 if invalid."""
    if isinstance(value, bool):
        raise ValidationFailed(f"Invalid input for field/attribute {item}. Value: {value}.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"Invalid input for field/attribute {item}. Value: {value}.") from None
    if number < -1:
        raise ValidationFailed(f"Quota limit {number} for {item} must be -1 or greater.")
    return UNLIMITED if number == -1 else min(number, UNLIMITED)


@transaction.atomic
def set_quotas(project: Project, values: dict[str, Any], *, network: bool, actor: Any) -> None:
    """Set ledger limits from Nova quota items; fixed items may only be given their current value."""
    items = _items(network=network)
    fixed = {**FIXED, **(FIXED_NETWORK if network else {})}
    for item, value in values.items():
        if item in items:
            quotas.set_limit(project, items[item], parse_limit(item, value), actor=actor)
        elif item in fixed:
            if parse_limit(item, value) != parse_limit(item, fixed[item]):
                raise ValidationFailed(f"Quota item {item} is fixed at {fixed[item]} and cannot be changed.")
        else:
            raise ValidationFailed(f"Bad key(s) {item} in quota_set")


@transaction.atomic
def reset_quotas(project: Project, *, actor: Any) -> None:
    """Give the project's compute holdings their default limits again."""
    for resource in Resource.objects.filter(name__in=LEDGER.values()):
        quotas.set_limit(project, resource.name, resource.default_project_limit, actor=actor)


def absolute_limits(project: Project, *, network: bool, image_meta: bool, personality: bool) -> dict[str, int]:
    """Nova's `limits.absolute` for the project (the fields each microversion keeps)."""
    quota = quota_set(project, network=True, detail=True)
    limits = {
        "maxTotalInstances": quota["instances"]["limit"],
        "maxTotalCores": quota["cores"]["limit"],
        "maxTotalRAMSize": quota["ram"]["limit"],
        "totalInstancesUsed": quota["instances"]["in_use"],
        "totalCoresUsed": quota["cores"]["in_use"],
        "totalRAMUsed": quota["ram"]["in_use"],
        "maxServerMeta": FIXED["metadata_items"],
        "maxTotalKeypairs": FIXED["key_pairs"],
        "maxServerGroups": quota["server_groups"]["limit"],
        "maxServerGroupMembers": quota["server_group_members"]["limit"],
        "totalServerGroupsUsed": quota["server_groups"]["in_use"],
    }
    if network:
        limits.update(
            maxTotalFloatingIps=quota["floating_ips"]["limit"],
            totalFloatingIpsUsed=quota["floating_ips"]["in_use"],
            maxSecurityGroups=FIXED_NETWORK["security_groups"],
            maxSecurityGroupRules=FIXED_NETWORK["security_group_rules"],
            totalSecurityGroupsUsed=0,
        )
    if image_meta:
        limits["maxImageMeta"] = 128
    if personality:
        limits["maxPersonality"] = FIXED["injected_files"]
        limits["maxPersonalitySize"] = FIXED["injected_file_content_bytes"]
    return limits
