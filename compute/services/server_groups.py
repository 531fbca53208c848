"""Server groups (Nova's os-server-groups): create, list, show, delete, and membership at boot.

A group has one policy. At boot (`os:scheduler_hints: {"group": id}`) `admit` locks the group row
(so members of one group are placed one after another), checks the per-group member limit and
turns the policy into backend_ganeti's `placement.NodeHints` built from the (cluster, node) of the
group's live members; `join` records the membership once the server row exists. affinity: the
node the members use (no room there: "No valid host", the server in ERROR); anti-affinity: a node
none of them uses; the soft policies only prefer that and never fail.

Quotas (identity's ledger, client `compute.server_groups`): `compute.server_groups` is charged one
per group (refunded when it is deleted); `compute.server_group_members` is the most live servers
one group may hold (Nova's per-group limit, so it is read from the ledger and checked by counting,
not charged: a project-wide holding cannot count per group).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from backend_ganeti.services.placement import NodeHints
from compute.models import Server, ServerGroup, ServerGroupMember
from compute.services.charges import OverQuota
from identity.models import Project
from identity.quota_models import Commission
from identity.services import quotas
from identity.tokens import TokenContext
from portal import audit
from portal.errors import InvalidState, NotFound, QuotaExceeded, ValidationFailed

logger = logging.getLogger(__name__)

CLIENT = "compute.server_groups"
GROUPS, MEMBERS = "compute.server_groups", "compute.server_group_members"
POLICIES = ("affinity", "anti-affinity")
SOFT_POLICIES = ("soft-affinity", "soft-anti-affinity")
CHARGE_PREFIX, RELEASE_PREFIX = "group:", "group-release:"


def _missing(group_id: Any) -> NotFound:
    return NotFound(f"Server group {group_id} could not be found.")


def visible_groups(ctx: TokenContext, *, all_projects: bool = False) -> QuerySet[ServerGroup]:
    """The groups a caller lists: its project's (an admin's `all_projects`: every project's)."""
    if ctx.is_admin and all_projects:
        return ServerGroup.objects.all()
    return ServerGroup.objects.filter(project_id=ctx.project_id or "")


def get_group(ctx: TokenContext, group_id: str) -> ServerGroup:
    """The group `group_id` in the caller's reach (admins: any); NotFound otherwise."""
    try:
        pk = uuid.UUID(str(group_id))
    except ValueError:
        raise _missing(group_id) from None
    rows = ServerGroup.objects.all() if ctx.is_admin else ServerGroup.objects.filter(project_id=ctx.project_id or "")
    group = rows.filter(pk=pk).first()
    if group is None:
        raise _missing(group_id)
    return group


def members_of(groups: list[ServerGroup]) -> dict[uuid.UUID, list[str]]:
    """The live member server ids of each group (one query)."""
    found: dict[uuid.UUID, list[str]] = {group.pk: [] for group in groups}
    rows = ServerGroupMember.objects.filter(group__in=groups, server__deleted_at__isnull=True)
    for group_id, server_id in rows.order_by("created_at", "id").values_list("group_id", "server_id"):
        found[group_id].append(str(server_id))
    return found


@transaction.atomic
def create_group(project: Project, *, user_id: str, name: str, policy: str, actor: Any) -> ServerGroup:
    """Record a group and charge `compute.server_groups` (403 with Nova's message when over quota)."""
    group = ServerGroup(project=project, user_id=user_id, name=name, policy=policy)
    try:
        commission = quotas.issue(
            project, {GROUPS: 1}, actor=actor, client=CLIENT, client_key=f"{CHARGE_PREFIX}{group.pk}",
            reason="compute.server_group", target=str(group.pk),
        )  # fmt: skip
    except QuotaExceeded:
        raise OverQuota("Quota exceeded, too many server groups.") from None
    group.save(force_insert=True)
    serial = commission.serial
    transaction.on_commit(lambda: quotas.accept(serial))
    audit.record(actor, "server_group.create", group, detail={"name": name, "policy": policy})
    return group


@transaction.atomic
def delete_group(group: ServerGroup, *, actor: Any) -> None:
    """Delete a group (its members keep running) and give its quota back after the commit."""
    row = ServerGroup.objects.select_for_update().filter(pk=group.pk).first()
    if row is None:
        raise _missing(group.pk)
    project, key = row.project, f"{RELEASE_PREFIX}{row.pk}"
    audit.record(actor, "server_group.delete", row, detail={"name": row.name, "policy": row.policy})
    row.delete()

    def refund() -> None:
        try:
            commission = quotas.issue(
                project, {GROUPS: -1}, actor=actor, client=CLIENT, client_key=key, reason="compute.server_group.release"
            )
            quotas.accept(commission.serial)
        except (ValidationFailed, InvalidState, NotFound, QuotaExceeded) as exc:
            logger.warning("server group quota release failed", extra={"project": project.pk, "error": str(exc)})

    transaction.on_commit(refund)


def member_limit(project: Project) -> int:
    """The most live servers one of the project's groups may hold (the ledger's limit)."""
    row = next((r for r in quotas.usage(project) if r["resource"] == MEMBERS), None)
    return int(row["limit"]) if row is not None and row["limit"] is not None else quotas.MAX_QUANTITY


def _hints(group: ServerGroup) -> NodeHints:
    """The group's policy as placement hints, from its live members' (cluster, node)."""
    members = Server.objects.filter(group_membership__group=group, deleted_at__isnull=True, instance__isnull=False)
    where = Counter(members.values_list("instance__cluster__name", "instance__primary_node"))
    affinity = not group.policy.endswith("anti-affinity")
    return NodeHints(members=dict(where), affinity=affinity, strict=group.policy in POLICIES)


@dataclass(frozen=True)
class Admission:
    """A boot's place in a group: the (locked) group and its policy as placement hints."""

    group: ServerGroup
    hints: NodeHints


def admit(project: Project, group_id: str | None) -> Admission | None:
    """For a boot into group `group_id` (None: no group): lock the group, check its member limit and
    return it with its placement hints. 400 for an unknown group, 403 (OverQuota) when full."""
    if group_id is None:
        return None
    try:
        pk = uuid.UUID(str(group_id))
    except ValueError:
        raise ValidationFailed(f"Invalid input for field/attribute group. Value: {group_id}. is not a 'uuid'") from None
    group = ServerGroup.objects.select_for_update().filter(pk=pk, project=project).first()
    if group is None:
        raise ValidationFailed(f"Server group {group_id} could not be found.")
    live = ServerGroupMember.objects.filter(group=group, server__deleted_at__isnull=True).count()
    if live + 1 > member_limit(project):
        raise OverQuota("Quota exceeded, too many servers in group")
    return Admission(group, _hints(group))


def hints_of(admission: Admission | None) -> NodeHints | None:
    """The placement hints of a boot (None outside a group)."""
    return admission.hints if admission is not None else None


def join(admission: Admission | None, server: Server) -> None:
    """Record the new server as a member of the group `admit` returned (nothing without one)."""
    if admission is not None:
        ServerGroupMember.objects.create(group=admission.group, server=server)


def resolve(commission: Commission) -> bool | None:
    """The ledger's crash resolver: a group charge is accepted iff its group exists; refunds are."""
    key = commission.client_key
    if key.startswith(RELEASE_PREFIX):
        return True
    if key.startswith(CHARGE_PREFIX):
        return ServerGroup.objects.filter(pk=key.removeprefix(CHARGE_PREFIX)).exists()
    return False
