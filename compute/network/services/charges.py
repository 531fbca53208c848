"""Quota charges of Neutron through identity's two-phase ledger (`network.networks`, `network.floating_ips`).

A create issues a commission keyed by the id of the object it is about to make, accepts it once
the transaction commits and rejects it if the transaction fails; a delete gives the unit back
after the commit with a negative commission keyed by the same id (so a retried delete cannot
release twice). The crash resolver accepts a charge iff its object exists.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from identity.models import Project
from identity.quota_models import Commission
from identity.services import quotas
from portal.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed

from .faults import over_quota

logger = logging.getLogger(__name__)

CLIENT = "network"
NETWORKS = "network.networks"
FLOATING_IPS = "network.floating_ips"
# Neutron's names of our ledger resources (in quota bodies and OverQuota messages).
NEUTRON_NAMES = {NETWORKS: "network", FLOATING_IPS: "floatingip"}
_KEY_PREFIX = {NETWORKS: "network:", FLOATING_IPS: "floatingip:"}
RELEASE = "release:"


def charge_key(resource: str, object_id: uuid.UUID | str) -> str:
    """The commission key of creating object `object_id` counted in `resource`."""
    return _KEY_PREFIX[resource] + str(object_id)


@contextmanager
def charged(project: Project, resource: str, object_id: uuid.UUID, *, actor: Any) -> Iterator[None]:
    """Reserve one unit of `resource` for the object the block creates; accept on commit, reject on failure.

    Use it outside (or as the first step of) the block's transaction. Over quota raises Neutron's
    409 OverQuota before anything is written.
    """
    try:
        commission = quotas.issue(
            project,
            {resource: 1},
            actor=actor,
            client=CLIENT,
            client_key=charge_key(resource, object_id),
            reason=f"{NEUTRON_NAMES[resource]}.create",
            target=str(object_id),
        )
    except QuotaExceeded as exc:
        raise over_quota(NEUTRON_NAMES[resource]) from exc
    serial = commission.serial
    try:
        yield
    except BaseException:
        _reject_quietly(serial)
        raise
    transaction.on_commit(lambda: quotas.accept(serial))


def _reject_quietly(serial: int) -> None:
    """Give back a reservation whose object was not made (already-settled or rolled-back ones are fine)."""
    try:
        quotas.reject(serial)
    except (InvalidState, NotFound):
        logger.info("network quota reservation %s was already settled or rolled back", serial)


def release_on_commit(project_id: str, resource: str, object_id: uuid.UUID, *, actor: Any) -> None:
    """After the commit, give back the unit the deleted object `object_id` held."""
    transaction.on_commit(_releaser(project_id, resource, object_id, actor))


def _releaser(project_id: str, resource: str, object_id: uuid.UUID, actor: Any) -> Callable[[], None]:
    def release() -> None:
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            return
        try:
            commission = quotas.issue(
                project,
                {resource: -1},
                actor=actor,
                client=CLIENT,
                client_key=RELEASE + charge_key(resource, object_id),
                reason=f"{NEUTRON_NAMES[resource]}.delete",
                target=str(object_id),
            )
            quotas.accept(commission.serial)
        except (ValidationFailed, InvalidState, NotFound) as exc:
            logger.warning("network quota release failed", extra={"project": project_id, "error": str(exc)})

    return release


def resolve(commission: Commission) -> bool | None:
    """The ledger's crash resolver: a create is accepted iff its object exists; releases are accepted."""
    from compute.network.models import FloatingIP, Network

    key = commission.client_key
    if key.startswith(RELEASE):
        return True
    for resource, model in ((NETWORKS, Network), (FLOATING_IPS, FloatingIP)):
        prefix = _KEY_PREFIX[resource]
        if key.startswith(prefix):
            try:
                return model.objects.filter(pk=uuid.UUID(key[len(prefix) :])).exists()
            except ValueError:
                return False
    return False
