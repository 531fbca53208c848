"""What users change on a server without touching its cluster: name, description, access IPs,
metadata (at most METADATA_LIMIT items), tags (at most TAG_LIMIT) and its ports' security groups."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from compute.models import Server, ServerTag
from compute.network.services.binding import change_server_security_group
from compute.services.servers import lock_server
from compute.services.states import Action, check
from portal import audit
from portal.errors import Forbidden, NotFound, ValidationFailed

METADATA_LIMIT = 128
TAG_LIMIT = 50
TAG_MAX_LENGTH = 60
UPDATABLE = ("name", "description", "access_ipv4", "access_ipv6", "disk_config")


@transaction.atomic
def update_server(server: Server, changes: dict[str, Any], *, actor: Any) -> Server:
    """Change the name, description, access IPs or disk config (allowed in any state)."""
    row = lock_server(server)
    for name, value in changes.items():
        if name not in UPDATABLE:
            raise ValidationFailed(f"Server attribute {name} cannot be updated.")
        setattr(row, name, value)
    row.updated_at = timezone.now()
    row.save()
    audit.record(actor, "server.update", row, detail={k: v for k, v in changes.items() if k != "description"})
    return row


@transaction.atomic
def change_security_group(server: Server, group: str, *, add: bool, is_admin: bool, actor: Any) -> None:
    """Nova's addSecurityGroup / removeSecurityGroup: the group (name or id) joins or leaves every
    port of the server (compute.network's binding interface); the server lists the groups it has."""
    row = lock_server(server)
    check(Action.SECURITY_GROUPS, row, is_admin=is_admin)
    name = change_server_security_group(project=row.project, server_id=str(row.pk), group=group, add=add, actor=actor)
    names = [n for n in row.security_groups if n != name]
    row.security_groups = [*names, name] if add else names
    row.updated_at = timezone.now()
    row.save(update_fields=["security_groups", "updated_at"])
    verb = "server.add_security_group" if add else "server.remove_security_group"
    audit.record(actor, verb, row, detail={"security_group": name})


def _check_count(count: int) -> None:
    if count > METADATA_LIMIT:
        raise Forbidden(
            f"Quota exceeded for metadata_items: Requested {count}, but already used 0 of {METADATA_LIMIT} "
            "metadata_items"
        )


@transaction.atomic
def set_metadata(server: Server, items: dict[str, str], *, replace: bool, is_admin: bool, actor: Any) -> dict:
    """Merge `items` into the metadata (or replace it all); returns the new metadata."""
    row = lock_server(server)
    check(Action.METADATA, row, is_admin=is_admin)
    metadata = dict(items) if replace else {**row.metadata, **items}
    _check_count(len(metadata))
    row.metadata = metadata
    row.updated_at = timezone.now()
    row.save(update_fields=["metadata", "updated_at"])
    audit.record(actor, "server.set_metadata", row, detail={"keys": sorted(items), "replace": replace})
    return metadata


@transaction.atomic
def delete_metadata_item(server: Server, key: str, *, is_admin: bool, actor: Any) -> None:
    """Remove one metadata item; NotFound when there is none with that key."""
    row = lock_server(server)
    check(Action.METADATA, row, is_admin=is_admin)
    if key not in row.metadata:
        raise NotFound("Metadata item was not found")
    row.metadata = {k: v for k, v in row.metadata.items() if k != key}
    row.updated_at = timezone.now()
    row.save(update_fields=["metadata", "updated_at"])
    audit.record(actor, "server.delete_metadata", row, detail={"key": key})


def check_tag(tag: Any) -> str:
    """A tag Nova accepts: 1-60 characters, no comma or slash."""
    if not isinstance(tag, str) or not 1 <= len(tag) <= TAG_MAX_LENGTH or "," in tag or "/" in tag:
        raise ValidationFailed(
            f"Invalid input for field/attribute tag. Value: {tag}. Tags are 1 to {TAG_MAX_LENGTH} characters "
            "without ',' or '/'."
        )
    return tag


def server_tags(server: Server) -> list[str]:
    """The server's tags, sorted."""
    return sorted(server.tags.values_list("tag", flat=True))


@transaction.atomic
def replace_tags(server: Server, tags: list[str], *, is_admin: bool, actor: Any) -> list[str]:
    """Make `tags` the server's tags (duplicates collapse)."""
    row = lock_server(server)
    check(Action.TAGS, row, is_admin=is_admin)
    wanted = sorted({check_tag(t) for t in tags})
    if len(wanted) > TAG_LIMIT:
        raise ValidationFailed(f"The number of tags exceeded the per-server limit {TAG_LIMIT}")
    ServerTag.objects.filter(server=row).delete()
    ServerTag.objects.bulk_create([ServerTag(server=row, tag=t) for t in wanted])
    _touch(row)
    audit.record(actor, "server.set_tags", row, detail={"tags": wanted})
    return wanted


@transaction.atomic
def add_tag(server: Server, tag: str, *, is_admin: bool, actor: Any) -> bool:
    """Add one tag; True when it was new."""
    row = lock_server(server)
    check(Action.TAGS, row, is_admin=is_admin)
    check_tag(tag)
    if ServerTag.objects.filter(server=row, tag=tag).exists():
        return False
    if ServerTag.objects.filter(server=row).count() >= TAG_LIMIT:
        raise ValidationFailed(f"The number of tags exceeded the per-server limit {TAG_LIMIT}")
    try:
        with transaction.atomic():
            ServerTag.objects.create(server=row, tag=tag)
    except IntegrityError:
        return False
    _touch(row)
    audit.record(actor, "server.add_tag", row, detail={"tag": tag})
    return True


@transaction.atomic
def delete_tag(server: Server, tag: str, *, is_admin: bool, actor: Any) -> None:
    """Remove one tag; NotFound when the server does not have it."""
    row = lock_server(server)
    check(Action.TAGS, row, is_admin=is_admin)
    if not ServerTag.objects.filter(server=row, tag=tag).delete()[0]:
        raise NotFound(f"Tag {tag} could not be found.")
    _touch(row)
    audit.record(actor, "server.delete_tag", row, detail={"tag": tag})


@transaction.atomic
def delete_all_tags(server: Server, *, is_admin: bool, actor: Any) -> None:
    """Remove every tag."""
    row = lock_server(server)
    check(Action.TAGS, row, is_admin=is_admin)
    ServerTag.objects.filter(server=row).delete()
    _touch(row)
    audit.record(actor, "server.delete_tags", row)


def _touch(server: Server) -> None:
    server.updated_at = timezone.now()
    server.save(update_fields=["updated_at"])
