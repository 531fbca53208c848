"""Quota charges of the object store through identity's two-phase ledger (`objectstore.bytes`).

A write issues a commission for the bytes it adds before its version becomes visible, accepts it
once the DB transaction commits, and rejects it if the transaction fails. Bytes freed by an
overwrite or delete are given back after the commit by a negative commission. Keys name the
upload, so the crash resolver can tell whether the write it paid for happened.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from identity.models import Project
from identity.quota_models import Commission
from identity.services import quotas
from portal.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed

logger = logging.getLogger(__name__)

RESOURCE = "objectstore.bytes"
CLIENT = "objectstore"
CHARGE_PREFIX = "put:"
RELEASE_PREFIX = "release:"


def new_upload_key() -> str:
    """A fresh idempotency key for one write (also stored on the version it creates)."""
    return CHARGE_PREFIX + uuid.uuid4().hex


def charge(project: Project, nbytes: int, *, actor: Any, key: str, target: str) -> Commission | None:
    """Reserve `nbytes` for a write about to happen (None for an empty write).

    Raises QuotaExceeded with Swift's message when the project's quota cannot take it.
    """
    if nbytes <= 0:
        return None
    try:
        return quotas.issue(
            project,
            {RESOURCE: nbytes},
            actor=actor,
            client=CLIENT,
            client_key=key,
            reason="objectstore.put",
            target=target[:255],
        )
    except QuotaExceeded as exc:
        raise QuotaExceeded(
            "Upload exceeds quota.", resource=exc.resource, limit=exc.limit, usage=exc.usage, requested=exc.requested
        ) from exc


def precheck(project: Project, nbytes: int) -> None:
    """Refuse early (before any byte is read) an upload that cannot fit; the commission decides for real."""
    if nbytes <= 0:
        return
    for row in quotas.usage(project):
        in_use = row["usage"] + row["pending"]
        if row["resource"] == RESOURCE and row["limit"] is not None and in_use + nbytes > row["limit"]:
            raise QuotaExceeded(
                "Upload exceeds quota.", resource=RESOURCE, limit=row["limit"], usage=in_use, requested=nbytes
            )


def accept_on_commit(commission: Commission | None) -> None:
    """Accept the commission once the surrounding transaction commits."""
    if commission is not None:
        serial = commission.serial
        transaction.on_commit(lambda: quotas.accept(serial))


def reject(commission: Commission | None) -> None:
    """Give back the reservation of a write that did not happen."""
    if commission is not None:
        quotas.reject(commission.serial)


def release_on_commit(project: Project, nbytes: int, *, actor: Any, target: str) -> None:
    """After the commit, return `nbytes` that a delete or overwrite freed."""
    if nbytes > 0:
        transaction.on_commit(lambda: _release(project, nbytes, actor=actor, target=target))


def _release(project: Project, nbytes: int, *, actor: Any, target: str) -> None:
    """Issue and accept a negative commission; a ledger refusal is logged, never raised to the client."""
    try:
        commission = quotas.issue(
            project,
            {RESOURCE: -nbytes},
            actor=actor,
            client=CLIENT,
            client_key=RELEASE_PREFIX + uuid.uuid4().hex,
            reason="objectstore.release",
            target=target[:255],
        )
        quotas.accept(commission.serial)
    except (ValidationFailed, InvalidState, NotFound) as exc:
        logger.warning("objectstore quota release failed", extra={"project": project.pk, "error": str(exc)})


def resolve(commission: Commission) -> bool | None:
    """The ledger's crash resolver: a charge is accepted iff its version exists; releases are accepted."""
    from objectstore.models import ObjectVersion

    if commission.client_key.startswith(RELEASE_PREFIX):
        return True
    return ObjectVersion.objects.filter(upload_key=commission.client_key).exists()
