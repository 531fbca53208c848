"""Quota charges of volumes through identity's two-phase ledger (`volume.volumes`, `volume.gib`).

A volume charges 1 volume and its size in GiB. The commission is issued inside the transaction
that records the volume (it rolls back with it) and accepted once that transaction commits; an
extension issues the growth the same way. What a volume holds is kept on its row (`charged`) and
given back by a negative commission after the commit that deletes it. Keys name the volume, so
the ledger's crash resolver can tell whether a charge paid for something that exists.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from compute.volume.models import Volume
from identity.models import Project
from identity.quota_models import Commission
from identity.services import quotas
from portal.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed

logger = logging.getLogger(__name__)

CLIENT = "volume"
VOLUMES, GIB = "volume.volumes", "volume.gib"
CHARGE_PREFIX = "volume:"
EXTEND_PREFIX = "extend:"
RELEASE_PREFIX = "release:"


def _cinder_refusal(exc: QuotaExceeded) -> QuotaExceeded:
    """Cinder's 413 for a commission the ledger refused (VolumeLimitExceeded / VolumeSizeExceedsAvailableQuota)."""
    if exc.resource == VOLUMES:
        message = f"Maximum number of volumes allowed ({exc.limit}) exceeded for quota 'volumes'."
    else:
        message = (
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
            f"Requested {exc.requested}G, quota is {exc.limit}G and {exc.usage}G has been consumed."
        )
    return QuotaExceeded(message, resource=exc.resource, limit=exc.limit, usage=exc.usage, requested=exc.requested)


def charge(project: Project, provisions: dict[str, int], *, actor: Any, key: str, target: str) -> None:
    """Issue a commission inside the caller's transaction and accept it after the commit (Cinder's 413 if refused)."""
    wanted = {name: qty for name, qty in provisions.items() if qty}
    if not wanted:
        return
    try:
        commission = quotas.issue(
            project, wanted, actor=actor, client=CLIENT, client_key=key, reason="volume.charge", target=target
        )
    except QuotaExceeded as exc:
        raise _cinder_refusal(exc) from exc
    serial = commission.serial
    transaction.on_commit(lambda: quotas.accept(serial))


def charge_volume(volume: Volume, *, actor: Any) -> None:
    """Charge a new volume (its `charged` is set; the caller saves the row)."""
    provisions = {VOLUMES: 1, GIB: volume.size}
    charge(volume.project, provisions, actor=actor, key=f"{CHARGE_PREFIX}{volume.pk}", target=str(volume.pk))
    volume.charged = provisions


def charge_extension(volume: Volume, new_size: int, *, actor: Any) -> None:
    """Charge growing the volume to `new_size` GiB (its `charged` is updated)."""
    delta = new_size - volume.size
    key = f"{EXTEND_PREFIX}{volume.pk}:{new_size}"
    charge(volume.project, {GIB: delta}, actor=actor, key=key, target=str(volume.pk))
    volume.charged = {**volume.charged, GIB: volume.charged.get(GIB, 0) + delta}


def release_volume(volume: Volume, *, actor: Any) -> None:
    """After the commit, give back what the volume holds (idempotent per volume)."""
    wanted = {name: -qty for name, qty in (volume.charged or {}).items() if qty}
    volume.charged = {}
    if not wanted:
        return
    project, key, target = volume.project, f"{RELEASE_PREFIX}{volume.pk}", str(volume.pk)

    def settle() -> None:
        try:
            commission = quotas.issue(
                project, wanted, actor=actor, client=CLIENT, client_key=key, reason="volume.release", target=target
            )
            quotas.accept(commission.serial)
        except (ValidationFailed, InvalidState, NotFound, QuotaExceeded) as exc:
            logger.warning("volume quota release failed", extra={"project": project.pk, "key": key, "error": str(exc)})

    transaction.on_commit(settle)


def resolve(commission: Commission) -> bool | None:
    """The ledger's crash resolver: a charge is accepted iff its volume exists; releases are accepted."""
    key = commission.client_key
    if key.startswith(RELEASE_PREFIX):
        return True
    for prefix in (CHARGE_PREFIX, EXTEND_PREFIX):
        if key.startswith(prefix):
            try:
                volume_id = uuid.UUID(key.removeprefix(prefix).split(":", 1)[0])
            except ValueError:
                return False
            return Volume.objects.filter(pk=volume_id).exists()
    return False
