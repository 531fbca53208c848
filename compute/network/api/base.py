"""Shared pieces of the Neutron views: the base view, request bodies checked against attribute tables,
the owning project of a new object, and id lookups that answer 404 for foreign and malformed ids.

Neutron checks every request attribute against a table (type, settable on POST/PUT, admin-only);
`parse_entity` does the same with Neutron's messages, so a wrong type or an unknown attribute is a
400 and an admin-only attribute set by a member is a 403 — never a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction
from rest_framework.request import Request

from compute.network.services.faults import bad_request, not_found, policy
from identity.models import Project
from identity.tokens import TokenContext
from portal.api.openstack import FaultStyle, OpenStackView
from portal.errors import Forbidden

M = TypeVar("M", bound=models.Model)
Check = Callable[[str, Any], Any]
NAME_MAX = 255
OWNER_KEYS = ("project_id", "tenant_id")


class NeutronView(OpenStackView):
    """Base of Neutron views: a project-scoped token; readers may not write; faults as NeutronError."""

    fault_style = FaultStyle.NEUTRON

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, then refuse unscoped tokens and writes by read-only callers."""
        super().initial(request, *args, **kwargs)
        ctx = self.ctx()
        if not ctx.project_id:
            raise Forbidden("A project-scoped token is required.", neutron_type="HTTPForbidden")
        if request.method not in ("GET", "HEAD", "OPTIONS") and ctx.is_reader_only:
            raise Forbidden("A read-only role may not change network resources.", neutron_type="PolicyNotAuthorized")

    @property
    def actor(self) -> Any:
        """The caller as services record it (a token principal: the user id and name)."""
        return self.request.user


# --- attribute checks (each returns the converted value or raises Neutron's 400) -------------------


def _reason(key: str, reason: str) -> Exception:
    return bad_request(f"Invalid input for {key}. Reason: {reason}.")


def string(max_length: int = NAME_MAX) -> Check:
    """A string of at most `max_length` characters."""

    def check(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _reason(key, f"'{value}' is not a valid string")
        if len(value) > max_length:
            raise _reason(key, f"'{value}' exceeds maximum length of {max_length}")
        return value

    return check


def boolean(key: str, value: Any) -> bool:
    """A JSON boolean (Neutron also takes "true"/"false" strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _reason(key, f"'{value}' is not a valid boolean value")


def integer(key: str, value: Any) -> int:
    """A JSON integer (or a string of digits)."""
    if isinstance(value, bool):
        raise _reason(key, f"'{value}' is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _reason(key, f"'{value}' is not an integer")


def uuid_value(key: str, value: Any) -> uuid.UUID:
    """A UUID."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _reason(key, f"'{value}' is not a valid UUID")


def nullable(inner: Check) -> Check:
    """`inner`, or null."""
    return lambda key, value: None if value is None else inner(key, value)


def json_list(key: str, value: Any) -> list[Any]:
    """A JSON list (items are checked by the service)."""
    if not isinstance(value, list):
        raise _reason(key, f"'{value}' is not a list")
    return value


def json_dict(key: str, value: Any) -> dict[str, Any]:
    """A JSON object."""
    if not isinstance(value, dict):
        raise _reason(key, f"'{value}' is not a dictionary")
    return value


def anything(key: str, value: Any) -> Any:
    """Checked by the service."""
    return value


@dataclass(frozen=True)
class Attr:
    """One attribute of a resource body: its check, where it may be set, and the service's name for it."""

    check: Check = anything
    create: bool = True
    update: bool = True
    admin: bool = False
    dest: str = ""


READ_ONLY = Attr(create=False, update=False)
STANDARD = {
    "id": READ_ONLY,
    "created_at": READ_ONLY,
    "updated_at": READ_ONLY,
    "revision_number": READ_ONLY,
    "tags": READ_ONLY,
    "description": Attr(string()),
}


def _has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL character anywhere (PostgreSQL text cannot store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def body_of(request: Request) -> dict[str, Any]:
    """The JSON request body as an object, or Neutron's 400."""
    data = request.data
    if not isinstance(data, dict) or not data:
        raise bad_request("Resource body required")
    if _has_nul(data):
        raise bad_request("NUL characters are not allowed in the request body.")
    return data


def entities(request: Request, key: str, plural: str, *, bulk: bool = True) -> tuple[list[dict[str, Any]], bool]:
    """The entities of a POST body (`{key: {...}}`, or `{plural: [...]}` for bulk creates) and whether bulk."""
    data = body_of(request)
    if bulk and plural in data:
        items = data[plural]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise bad_request(f"Invalid input for {plural}: a non-empty list of objects is required")
        return items, True
    return [entity(request, key, data)], False


def all_or_nothing(bulk: bool) -> AbstractContextManager[Any]:
    """One transaction around a bulk create; a single create runs its service's own (two-phase quota) steps."""
    return transaction.atomic() if bulk else nullcontext()


def entity(request: Request, key: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The object under `key` in the body, or Neutron's 400."""
    data = body_of(request) if data is None else data
    if key not in data:
        raise bad_request(f"Unable to find '{key}' in request body")
    if not isinstance(data[key], dict):
        raise bad_request(f"Invalid input for {key}: an object is required")
    return data[key]


def parse_entity(
    item: dict[str, Any], table: dict[str, Attr], *, ctx: TokenContext, creating: bool, resource: str
) -> dict[str, Any]:
    """Check a request entity against `table`; returns {service name: value} (owner keys left out)."""
    unknown = sorted(key for key in item if key not in table and key not in OWNER_KEYS)
    if unknown:
        raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    result: dict[str, Any] = {}
    for key, value in item.items():
        if key in OWNER_KEYS:
            if not creating:
                raise bad_request(f"Cannot update read-only attribute {key}")
            continue
        attr = table[key]
        if creating and not attr.create:
            raise bad_request(f"Attribute '{key}' not allowed in POST")
        if not creating and not attr.update:
            raise bad_request(f"Cannot update read-only attribute {key}")
        # Like Neutron, an admin-only attribute given its default on create is not a policy matter.
        if attr.admin and not ctx.is_admin and (not creating or value not in (None, False, "")):
            raise policy(f"rule:{'create' if creating else 'update'}_{resource}:{key}")
        result[attr.dest or key] = attr.check(key, value)
    return result


def owner_project(ctx: TokenContext, item: dict[str, Any]) -> Project:
    """The project a new object belongs to: the token's, or (admins only) the one the body names."""
    named = {str(item[key]) for key in OWNER_KEYS if item.get(key) is not None}
    if len(named) > 1:
        raise bad_request("'project_id' and 'tenant_id' do not match")
    wanted = named.pop() if named else ctx.project_id
    if wanted != ctx.project_id and not ctx.is_admin:
        raise bad_request(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin "
            "privileges"
        )
    project = Project.objects.filter(pk=wanted).first()
    if project is None:
        raise bad_request(f"Invalid input for project_id. Reason: project {wanted} does not exist.")
    return project


def get_visible(queryset: models.QuerySet[M], pk: Any, kind: str) -> M:
    """The object with id `pk` in the caller's visible `queryset`, else Neutron's 404 (malformed ids too)."""
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        raise not_found(kind, pk) from None
    obj = queryset.filter(pk=key).first()
    if obj is None:
        raise not_found(kind, pk)
    return obj


def owns(ctx: TokenContext, obj: Any) -> bool:
    """Whether the caller may change `obj`: an admin, or a member of its project."""
    return ctx.is_admin or obj.project_id == ctx.project_id


def require_owner(ctx: TokenContext, obj: Any, action: str) -> None:
    """403 when the caller can see `obj` (shared/external) but may not change it."""
    if not owns(ctx, obj):
        raise policy(f"rule:{action}")
