"""Pithos-style sharing: account groups, per-object read/write grants and "shared with me" queries.

`X-Object-Sharing: read=alice,group:team;write=bob` names users (by name or id, Default domain)
and groups of the owner's account. Write access implies read. A grant belongs to the object's
name, not to one version, so it survives overwrites; deleting the object drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from identity.models import DEFAULT_DOMAIN_ID, Project, User
from objectstore.models import Container, GroupMember, Object, ObjectGrant, PublicLink
from objectstore.services.containers import live_objects_q
from portal import audit
from portal.errors import NotFound, ValidationFailed

GROUP_PREFIX = "group:"
GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,127}$")
MAX_ENTRIES = 256


@dataclass
class Sharing:
    """Who may read and who may write an object, resolved to users and group names."""

    read_users: list[User] = field(default_factory=list)
    read_groups: list[str] = field(default_factory=list)
    write_users: list[User] = field(default_factory=list)
    write_groups: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """Whether nothing is shared."""
        return not (self.read_users or self.read_groups or self.write_users or self.write_groups)


def find_user(ref: str) -> User:
    """A Default-domain user by name, else by id (ValidationFailed when there is none)."""
    users = User.objects.filter(domain_id=DEFAULT_DOMAIN_ID)
    user = users.filter(name=ref).first() or users.filter(pk=ref).first()
    if user is None:
        raise ValidationFailed(f"Unknown user: {ref[:64]}")
    return user


def check_group_name(name: str) -> str:
    """A group name: lowercase letters, digits, '-' and '_', at most 128 (ValidationFailed otherwise)."""
    name = name.strip().lower()
    if not GROUP_NAME.match(name):
        raise ValidationFailed(f"Invalid group name: {name[:64]}")
    return name


def parse_sharing(text: str, project: Project) -> Sharing:
    """Parse and resolve an `X-Object-Sharing` value against users and the account's groups.

    An empty value means "share with nobody". Raises ValidationFailed on any bad part.
    """
    sharing = Sharing()
    text = text.strip()
    if not text:
        return sharing
    groups = set(GroupMember.objects.filter(project=project).values_list("group", flat=True))
    seen: set[str] = set()
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("read", "write") or key in seen:
            raise ValidationFailed("Bad X-Object-Sharing header")
        seen.add(key)
        refs = [ref.strip() for ref in value.split(",") if ref.strip()]
        if len(refs) > MAX_ENTRIES:
            raise ValidationFailed("Too many entries in X-Object-Sharing")
        users, names = (
            (sharing.read_users, sharing.read_groups)
            if key == "read"
            else (
                sharing.write_users,
                sharing.write_groups,
            )
        )
        for ref in refs:
            if ref.lower().startswith(GROUP_PREFIX):
                name = check_group_name(ref[len(GROUP_PREFIX) :])
                if name not in groups:
                    raise ValidationFailed(f"Unknown group: {name}")
                names.append(name)
            else:
                users.append(find_user(ref))
    return sharing


def format_sharing(obj: Object) -> str:
    """The `X-Object-Sharing` value of an object ("" when not shared)."""
    parts: dict[str, list[str]] = {"read": [], "write": []}
    for grant in obj.grants.select_related("user").order_by("access", "group", "user__name"):
        parts[grant.access].append(f"{GROUP_PREFIX}{grant.group}" if grant.group else grant.user.name)
    return ";".join(f"{key}={','.join(refs)}" for key, refs in parts.items() if refs)


@transaction.atomic
def set_sharing(container: Container, name: str, sharing: Sharing, *, actor: Any) -> None:
    """Replace the grants of the object `name` (NotFound when it has no current version)."""
    obj = Object.objects.select_for_update().filter(container=container, name=name).filter(live_objects_q()).first()
    if obj is None:
        raise NotFound("The resource could not be found.")
    obj.grants.all().delete()
    rows = [ObjectGrant(object=obj, access="read", user=u) for u in sharing.read_users]
    rows += [ObjectGrant(object=obj, access="read", group=g) for g in sharing.read_groups]
    rows += [ObjectGrant(object=obj, access="write", user=u) for u in sharing.write_users]
    rows += [ObjectGrant(object=obj, access="write", group=g) for g in sharing.write_groups]
    ObjectGrant.objects.bulk_create(rows)
    audit.record(actor, "objectstore.object.share", obj, project_id=container.project_id)


def clear_object_extras(container: Container, name: str) -> None:
    """Drop the grants and public link of a deleted name (a later upload starts private)."""
    obj = Object.objects.filter(container=container, name=name).first()
    if obj is not None and obj.current_id is None:
        obj.grants.all().delete()
        PublicLink.objects.filter(object=obj).delete()


def _grants_for(user_id: str) -> QuerySet[ObjectGrant]:
    """Grants that reach `user_id` directly or through a group of the grant's account."""
    member = GroupMember.objects.filter(
        project_id=OuterRef("object__container__project_id"), group=OuterRef("group"), user_id=user_id
    )
    return ObjectGrant.objects.filter(Q(user_id=user_id) | (~Q(group="") & Exists(member)))


def can_access(obj: Object, user_id: str, *, write: bool) -> bool:
    """Whether `user_id` may read (or write) `obj` through a sharing grant."""
    grants = _grants_for(user_id).filter(object=obj)
    if write:
        grants = grants.filter(access="write")
    return grants.exists()


def shared_objects(user_id: str) -> QuerySet[Object]:
    """Live objects of any account that are shared with `user_id`."""
    return (
        Object.objects.filter(Exists(_grants_for(user_id).filter(object=OuterRef("pk"))))
        .filter(live_objects_q())
        .select_related("container__project", "current")
    )


def sharing_accounts(user_id: str) -> list[Project]:
    """The projects (accounts) that share at least one live object with `user_id`."""
    ids = shared_objects(user_id).values("container__project_id")
    return list(Project.objects.filter(pk__in=ids).order_by("pk"))


def shared_containers(project: Project, user_id: str) -> list[str]:
    """Names of `project`'s containers holding something shared with `user_id`."""
    names = shared_objects(user_id).filter(container__project=project).values_list("container__name", flat=True)
    return sorted(set(names))


def shared_in_container(container: Container, user_id: str) -> list[Object]:
    """The live objects of `container` shared with `user_id`, by name."""
    return list(shared_objects(user_id).filter(container=container).order_by("name"))


def shared_by_owner(container: Container) -> list[Object]:
    """The live objects of `container` its owner shares with anybody, by name."""
    return list(
        Object.objects.filter(container=container, grants__isnull=False)
        .filter(live_objects_q())
        .distinct()
        .select_related("current")
        .order_by("name")
    )


def account_groups(project: Project) -> dict[str, list[str]]:
    """The account's groups and their members' names."""
    groups: dict[str, list[str]] = {}
    rows = GroupMember.objects.filter(project=project).select_related("user").order_by("group", "user__name")
    for row in rows:
        groups.setdefault(row.group, []).append(row.user.name)
    return groups


@transaction.atomic
def set_groups(project: Project, groups: dict[str, list[str]], *, actor: Any) -> None:
    """Set the members of the given groups (an empty list removes the group and its grants)."""
    resolved = {name: [find_user(ref) for ref in refs] for name, refs in groups.items()}
    for name, users in resolved.items():
        GroupMember.objects.filter(project=project, group=name).delete()
        GroupMember.objects.bulk_create(
            [GroupMember(project=project, group=name, user=u) for u in {u.pk: u for u in users}.values()]
        )
        if not users:
            ObjectGrant.objects.filter(object__container__project=project, group=name).delete()
    audit.record(actor, "objectstore.account.groups", project, project_id=project.pk)
