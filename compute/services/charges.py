"""Quota charges of servers through identity's two-phase ledger.

A server charges `compute.servers` 1, `compute.cores` vCPUs, `compute.ram_mib` RAM and
`compute.disk_gib` root+ephemeral disk. The commission is issued inside the transaction that
records the server (so it rolls back with it) and accepted once that transaction commits; a
resize issues the difference the same way. What a server holds is kept on its row (`charged`)
and given back by a negative commission once the backend confirms the deletion. Keys name the
server, so the ledger's crash resolver can tell whether a charge paid for something that exists.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from compute.models import Server
from identity.models import Project
from identity.quota_models import Commission
from identity.services import quotas
from portal.errors import Forbidden, InvalidState, NotFound, QuotaExceeded, ValidationFailed

logger = logging.getLogger(__name__)

CLIENT = "compute"
SERVERS, CORES, RAM, DISK = "compute.servers", "compute.cores", "compute.ram_mib", "compute.disk_gib"
# How Nova names each resource in its over-quota message.
NOVA_NAMES = {SERVERS: "instances", CORES: "cores", RAM: "ram", DISK: "disk"}
CHARGE_PREFIX = "server:"
RESIZE_PREFIX = "resize:"
RELEASE_PREFIX = "release:"


def server_charges(vcpus: int, ram: int, disk: int, *, servers: int = 1) -> dict[str, int]:
    """What one server of this size holds."""
    return {SERVERS: servers, CORES: vcpus, RAM: ram, DISK: disk}


class OverQuota(Forbidden):
    """A charge the quota cannot take (Nova answers 403 with the resource, request, usage and limit)."""


def _nova_refusal(exc: QuotaExceeded) -> OverQuota:
    """Nova's 403 for a commission the ledger refused."""
    name = NOVA_NAMES.get(exc.resource, exc.resource)
    return OverQuota(
        f"Quota exceeded for {name}: Requested {exc.requested}, but already used {exc.usage} of {exc.limit} {name}"
    )


def charge(project: Project, provisions: dict[str, int], *, actor: Any, key: str, target: str) -> Commission | None:
    """Issue a commission inside the caller's transaction and accept it after the commit.

    Raises Forbidden with Nova's message when the quota cannot take it. None when nothing changes.
    """
    wanted = {name: qty for name, qty in provisions.items() if qty}
    if not wanted:
        return None
    try:
        commission = quotas.issue(
            project, wanted, actor=actor, client=CLIENT, client_key=key, reason="compute.charge", target=target[:255]
        )
    except QuotaExceeded as exc:
        raise _nova_refusal(exc) from exc
    serial = commission.serial
    transaction.on_commit(lambda: quotas.accept(serial))
    return commission


def charge_server(server: Server, *, actor: Any) -> None:
    """Charge a new server's size (its `charged` field is set; the caller saves the row)."""
    provisions = server_charges(server.vcpus, server.ram, server.disk + server.ephemeral)
    charge(server.project, provisions, actor=actor, key=f"{CHARGE_PREFIX}{server.pk}", target=str(server.pk))
    server.charged = provisions


def charge_resize(server: Server, new: dict[str, Any], *, actor: Any) -> dict[str, int]:
    """Charge the difference between the server's size and `new` (a flavor snapshot); returns it."""
    delta = {
        CORES: new["vcpus"] - server.vcpus,
        RAM: new["ram"] - server.ram,
        DISK: new["disk"] + new.get("ephemeral", 0) - server.disk - server.ephemeral,
    }
    key = f"{RESIZE_PREFIX}{server.pk}:{server.resize_serial}"
    charge(server.project, delta, actor=actor, key=key, target=str(server.pk))
    server.charged = {name: server.charged.get(name, 0) + delta.get(name, 0) for name in server_charges(0, 0, 0)}
    return delta


def refund_resize(server: Server, *, frm: dict[str, Any], to: dict[str, Any], actor: Any) -> None:
    """After the commit, settle the move from flavor `frm` back to flavor `to` (a failed or reverted
    resize: usually a refund of what `charge_resize` took)."""
    delta = {
        CORES: to["vcpus"] - frm["vcpus"],
        RAM: to["ram"] - frm["ram"],
        DISK: to["disk"] + to.get("ephemeral", 0) - frm["disk"] - frm.get("ephemeral", 0),
    }
    key = f"{RESIZE_PREFIX}{server.pk}:{server.resize_serial}:back"
    _after_commit_release(server.project, delta, key=key, actor=actor, target=str(server.pk))
    server.charged = {name: server.charged.get(name, 0) + delta.get(name, 0) for name in server_charges(0, 0, 0)}


def release_server(server: Server, *, actor: Any) -> None:
    """After the commit, give back everything the server holds (idempotent per server)."""
    provisions = {name: -qty for name, qty in (server.charged or {}).items() if qty}
    key = f"{RELEASE_PREFIX}{server.pk}"
    _after_commit_release(server.project, provisions, key=key, actor=actor, target=str(server.pk))
    server.charged = {}


def _after_commit_release(project: Project, provisions: dict[str, int], *, key: str, actor: Any, target: str) -> None:
    """Issue and accept a commission once the surrounding transaction commits (a refund, or the
    re-charge of a revert); a ledger refusal is logged, never raised (the change already happened)."""
    wanted = {name: qty for name, qty in provisions.items() if qty}
    if not wanted:
        return

    def settle() -> None:
        try:
            commission = quotas.issue(
                project, wanted, actor=actor, client=CLIENT, client_key=key, reason="compute.release", target=target
            )
            quotas.accept(commission.serial)
        except (ValidationFailed, InvalidState, NotFound, QuotaExceeded) as exc:
            logger.warning("compute quota release failed", extra={"project": project.pk, "key": key, "error": str(exc)})

    transaction.on_commit(settle)


def resolve(commission: Commission) -> bool | None:
    """The ledger's crash resolver: a charge is accepted iff its server exists; refunds are accepted."""
    key = commission.client_key
    if key.startswith(RELEASE_PREFIX) or key.endswith(":back"):
        return True
    if key.startswith(CHARGE_PREFIX):
        return Server.objects.filter(pk=key.removeprefix(CHARGE_PREFIX)).exists()
    if key.startswith(RESIZE_PREFIX):
        server_id = key.removeprefix(RESIZE_PREFIX).split(":", 1)[0]
        return Server.objects.filter(pk=server_id).exists()
    return False
