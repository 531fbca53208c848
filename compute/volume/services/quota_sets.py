"""Cinder's quota sets and absolute limits, read from (and written to) identity's quota ledger.

`volumes` and `gigabytes` are the ledger's volume.volumes and volume.gib holdings. Snapshots,
backups and groups do not exist here: their limits are 0 and cannot be changed;
`per_volume_gigabytes` is the largest volume this cloud makes. Cinder's -1 (unlimited) is the
ledger's largest limit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from compute.services.quota_sets import parse_limit
from compute.volume.services import charges
from compute.volume.services.volumes import MAX_SIZE_GIB
from identity.models import Project
from identity.quota_models import Resource
from identity.services import quotas
from portal.errors import ValidationFailed

UNLIMITED = quotas.MAX_QUANTITY
LEDGER = {"volumes": charges.VOLUMES, "gigabytes": charges.GIB}
FIXED = {
    "snapshots": 0,
    "backups": 0,
    "backup_gigabytes": 0,
    "groups": 0,
    "per_volume_gigabytes": MAX_SIZE_GIB,
}


def _cinder(limit: int | None) -> int:
    return -1 if limit is None or limit >= UNLIMITED else int(limit)


def quota_set(project: Project, *, usage: bool = False, defaults: bool = False) -> dict[str, Any]:
    """The project's quota set (`usage`: {limit, in_use, reserved} per item; `defaults`: the defaults)."""
    rows = {} if defaults else {row["resource"]: row for row in quotas.usage(project)}
    resources = {r.name: r for r in Resource.objects.filter(name__in=LEDGER.values())}
    result: dict[str, Any] = {"id": str(project.pk)}
    for item, resource in LEDGER.items():
        row = rows.get(resource)
        default = resources[resource].default_project_limit if resource in resources else 0
        limit = _cinder(row["limit"] if row else default)
        if usage:
            result[item] = {
                "limit": limit,
                "in_use": row["usage"] if row else 0,
                "reserved": row["pending"] if row else 0,
            }
        else:
            result[item] = limit
    for item, value in FIXED.items():
        result[item] = {"limit": value, "in_use": 0, "reserved": 0} if usage else value
    return result


@transaction.atomic
def set_quotas(project: Project, values: dict[str, Any], *, actor: Any) -> None:
    """Set ledger limits from Cinder quota items; fixed items may only be given their current value."""
    for item, value in values.items():
        if item in LEDGER:
            quotas.set_limit(project, LEDGER[item], parse_limit(item, value), actor=actor)
        elif item in FIXED:
            if parse_limit(item, value) != FIXED[item]:
                raise ValidationFailed(f"Quota item {item} is fixed at {FIXED[item]} and cannot be changed.")
        else:
            raise ValidationFailed(f"Bad key(s) in quota set: {item}")


def absolute_limits(project: Project) -> dict[str, int]:
    """Cinder's `limits.absolute` for the project."""
    quota = quota_set(project, usage=True)
    return {
        "maxTotalVolumes": quota["volumes"]["limit"],
        "maxTotalVolumeGigabytes": quota["gigabytes"]["limit"],
        "totalVolumesUsed": quota["volumes"]["in_use"],
        "totalGigabytesUsed": quota["gigabytes"]["in_use"],
        "maxTotalSnapshots": 0,
        "totalSnapshotsUsed": 0,
        "maxTotalBackups": 0,
        "totalBackupsUsed": 0,
        "maxTotalBackupGigabytes": 0,
        "totalBackupGigabytesUsed": 0,
    }
