"""Server actions: start, stop, reboot, resize (confirm, revert), lock, console (createImage: snapshots.py).

Each action locks the server row, checks it against the state table (`states.check`, 409 with
Nova's message), asks backend_ganeti for the operation (its job is enqueued on commit) and sets
the task_state the table names. The backend's events finish the task (`services.events`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.models import Instance
from backend_ganeti.services import devices, operations
from compute.models import Server
from compute.services import charges, consoles, flavors
from compute.services.servers import lock_server
from compute.services.states import FROM_BACKEND, Action, Rule, TaskState, VmState, check
from identity.tokens import TokenContext
from portal import audit
from portal.errors import Forbidden, InvalidState, NotFound, ValidationFailed

S = Instance.Status


def _instance(server: Server, rule: Rule) -> Instance:
    instance = server.instance
    if instance is None or instance.status == S.DELETED:
        raise InvalidState(f"Instance {server.pk} is not ready")
    return instance


def _backend(server: Server, rule: Rule, call: Any) -> Any:
    """Run a backend operation, saying which server action a backend refusal came from."""
    try:
        return call()
    except InvalidState as exc:
        raise InvalidState(f"Cannot '{rule.name}' instance {server.pk}: {exc.message}") from exc
    except NotFound as exc:
        raise InvalidState(f"Instance {server.pk} is not ready") from exc


def _begin(server: Server, rule: Rule, action: str, actor: Any, **detail: Any) -> None:
    """Set the rule's task state and record the action."""
    if rule.task is not None:
        server.task_state = rule.task
    server.updated_at = timezone.now()
    server.save()
    audit.record(actor, f"server.{action}", server, detail={"cluster": server.host, **detail})


@transaction.atomic
def start_server(server: Server, *, is_admin: bool, actor: Any) -> None:
    """Power a stopped server on."""
    row = lock_server(server)
    rule = check(Action.START, row, is_admin=is_admin)
    instance = _instance(row, rule)
    _backend(row, rule, lambda: operations.start_instance(instance, actor=actor))
    _begin(row, rule, "start", actor)


@transaction.atomic
def stop_server(server: Server, *, is_admin: bool, actor: Any) -> None:
    """Shut a server down."""
    row = lock_server(server)
    rule = check(Action.STOP, row, is_admin=is_admin)
    instance = _instance(row, rule)
    _backend(row, rule, lambda: operations.stop_instance(instance, actor=actor))
    _begin(row, rule, "stop", actor)


@transaction.atomic
def reboot_server(server: Server, *, hard: bool, is_admin: bool, actor: Any) -> None:
    """Reboot (SOFT: the guest restarts; HARD: reset). A hard reboot of a stopped server starts it."""
    row = lock_server(server)
    rule = check(Action.REBOOT_HARD if hard else Action.REBOOT, row, is_admin=is_admin)
    instance = _instance(row, rule)
    if instance.status == S.RUNNING:
        _backend(row, rule, lambda: operations.reboot_instance(instance, hard=hard, actor=actor))
    else:
        _backend(row, rule, lambda: operations.start_instance(instance, actor=actor))
    _begin(row, rule, "reboot", actor, type="HARD" if hard else "SOFT")


def resized(server: Server, instance: Instance) -> None:
    """The new size is in place: VERIFY_RESIZE until the user confirms or reverts."""
    server.set_flavor(server.new_flavor or server.flavor)
    server.new_flavor = None
    server.vm_state, server.task_state = VmState.RESIZED, None
    server.power_state = FROM_BACKEND[instance.status][1]


@transaction.atomic
def resize_server(server: Server, flavor_ref: str, *, ctx: TokenContext, actor: Any) -> None:
    """Move a server to another flavor (vCPUs and RAM; a larger root disk grows). Refused: the same
    flavor, a smaller disk, another disk template. Over quota for the difference: 403."""
    row = lock_server(server)
    rule = check(Action.RESIZE, row, is_admin=ctx.is_admin)
    instance = _instance(row, rule)
    flavor_id = str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
    try:
        new = flavors.get_visible(ctx, flavor_id).snapshot()
    except NotFound:
        raise ValidationFailed(f"Flavor {flavor_id} could not be found.") from None
    if new["id"] == row.flavor_id:
        raise ValidationFailed("When resizing, instances must change flavor!")
    if new["disk"] < row.disk:
        raise ValidationFailed("Resizing to a smaller disk is not supported (the cluster cannot shrink disks).")
    if flavors.disk_template_of(new["extra_specs"]) != flavors.disk_template_of(row.flavor_extra_specs):
        raise ValidationFailed("Resizing to a flavor with another disk template is not supported.")
    row.resize_serial += 1
    charges.charge_resize(row, new, actor=actor)
    row.old_flavor, row.new_flavor = row.flavor, new
    if (new["vcpus"], new["ram"]) != (row.vcpus, row.ram):
        call = lambda: operations.resize_instance(instance, vcpus=new["vcpus"], memory_mb=new["ram"], actor=actor)  # noqa: E731
        _backend(row, rule, call)
        _begin(row, rule, "resize", actor, flavor=new["id"])
        return
    grow = grow_amount(instance, new)
    if grow:
        _backend(row, rule, lambda: devices.grow_disk(instance, 0, grow, actor=actor))
        row.task_state = TaskState.RESIZE_FINISH
        _begin(row, rule, "resize", actor, flavor=new["id"])
        return
    resized(row, instance)
    _begin(row, rule, "resize", actor, flavor=new["id"])


def grow_amount(instance: Instance, new: dict[str, Any]) -> int:
    """MiB the root disk must grow by to reach the new flavor's size (0 when diskless or big enough)."""
    if not instance.disks:
        return 0
    current = int(instance.disks[0].get("size_mb", 0))
    return max(new["disk"] * 1024 - current, 0)


@transaction.atomic
def confirm_resize(server: Server, *, is_admin: bool, actor: Any) -> None:
    """Keep the new flavor: the server is ACTIVE (or SHUTOFF) again."""
    row = lock_server(server)
    rule = check(Action.CONFIRM_RESIZE, row, is_admin=is_admin)
    instance = _instance(row, rule)
    row.old_flavor = None
    row.vm_state, row.power_state = FROM_BACKEND[instance.status]
    _begin(row, rule, "confirm_resize", actor)


def reverted(server: Server, instance: Instance, *, actor: Any) -> None:
    """Back on the old flavor: give back what the resize charged."""
    old = server.old_flavor or server.flavor
    charges.refund_resize(server, frm=server.flavor, to=old, actor=actor)
    server.set_flavor(old)
    server.old_flavor = None
    server.vm_state, server.power_state = FROM_BACKEND[instance.status]
    server.task_state = None


@transaction.atomic
def revert_resize(server: Server, *, is_admin: bool, actor: Any) -> None:
    """Go back to the old flavor (vCPUs and RAM; a grown disk keeps its size: clusters cannot shrink)."""
    row = lock_server(server)
    rule = check(Action.REVERT_RESIZE, row, is_admin=is_admin)
    instance = _instance(row, rule)
    old = row.old_flavor or row.flavor
    if (old["vcpus"], old["ram"]) != (row.vcpus, row.ram):
        call = lambda: operations.resize_instance(instance, vcpus=old["vcpus"], memory_mb=old["ram"], actor=actor)  # noqa: E731
        _backend(row, rule, call)
        _begin(row, rule, "revert_resize", actor)
        return
    reverted(row, instance, actor=actor)
    _begin(row, rule, "revert_resize", actor)


def console_url(server: Server, *, kind: str, is_admin: bool, base: str) -> str:
    """The URL of the server's console page (a signed, short-lived link)."""
    check(Action.CONSOLE, server, is_admin=is_admin)
    return consoles.console_url(server, kind=kind, base=base)


@transaction.atomic
def lock(server: Server, *, ctx: TokenContext, actor: Any) -> None:
    """Lock a server against changes by its project (admins can still act)."""
    row = lock_server(server)
    rule = check(Action.LOCK, row, is_admin=ctx.is_admin)
    owner = ctx.project_id == row.project_id
    row.locked, row.locked_by = True, "owner" if owner else "admin"
    _begin(row, rule, "lock", actor)


@transaction.atomic
def unlock(server: Server, *, ctx: TokenContext, actor: Any) -> None:
    """Unlock a server; one an admin locked can only be unlocked by an admin."""
    row = lock_server(server)
    rule = check(Action.UNLOCK, row, is_admin=ctx.is_admin)
    if row.locked and row.locked_by == "admin" and not ctx.is_admin:
        raise Forbidden("Only an administrator can unlock a server an administrator locked.")
    row.locked, row.locked_by = False, ""
    _begin(row, rule, "unlock", actor)
