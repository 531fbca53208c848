"""Keystone's default policy, written once: who may call which identity API.

`is_admin` means the token carries the admin role (Keystone's legacy `admin_required`).
A non-admin may read and update their own user, change their own password, manage their own
application credentials and list their own projects; everything else is admin-only. Checks that
concern another user's or project's objects raise Forbidden before any lookup, so a refusal never
tells whether the object exists.
"""

from __future__ import annotations

from identity.tokens import TokenContext
from portal.errors import Forbidden

DENIED = "You are not authorized to perform the requested action: {action}."
# What a non-admin may change on their own user record (as `users.update_user` arguments).
SELF_EDITABLE = {"email", "description", "default_project"}


def deny(action: str) -> Forbidden:
    """The Forbidden error Keystone returns when policy refuses `action`."""
    return Forbidden(DENIED.format(action=f"identity:{action}"))


def require_admin(ctx: TokenContext, action: str) -> None:
    """Allow only tokens carrying the admin role."""
    if not ctx.is_admin:
        raise deny(action)


def require_admin_or_self(ctx: TokenContext, user_id: str, action: str) -> None:
    """Allow admins, and a user acting on their own user record."""
    if not (ctx.is_admin or ctx.user_id == user_id):
        raise deny(action)


def require_admin_or_project(ctx: TokenContext, project_id: str, action: str) -> None:
    """Allow admins, and tokens scoped to the project concerned."""
    if not (ctx.is_admin or ctx.project_id == project_id):
        raise deny(action)


def require_admin_or_own_grant(ctx: TokenContext, project_id: str, user_id: str, action: str) -> None:
    """Allow admins, and a user reading their own roles on the project their token is scoped to."""
    if not (ctx.is_admin or (ctx.user_id == user_id and ctx.project_id == project_id)):
        raise deny(action)


def require_token_subject(ctx: TokenContext, subject: TokenContext, action: str) -> None:
    """Allow admins, and a user acting on a token issued to themselves."""
    if not (ctx.is_admin or ctx.user_id == subject.user_id):
        raise deny(action)


def require_owner(ctx: TokenContext, user_id: str, action: str) -> None:
    """Allow only the user themselves (creating application credentials: not even admins for others)."""
    if ctx.user_id != user_id:
        raise deny(action)


def require_user_update_allowed(ctx: TokenContext, changes: set[str]) -> None:
    """Admins may change any user field; users only their own email, description and default project."""
    if not ctx.is_admin and changes - SELF_EDITABLE:
        raise deny("update_user")
