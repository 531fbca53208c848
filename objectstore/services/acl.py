"""Container ACLs (`X-Container-Read` / `X-Container-Write`) in Swift keystoneauth's syntax.

An ACL is a comma-separated list of grants:

- `.r:*`, `.r:<host>`, `.r:.<domain>`, `.r:-<host>` — referrer grants (read ACL only): anyone,
  token or not, may read objects; listing the container also needs `.rlistings`.
- `<project>:<user>` — a user of a project, each part an id or a name, or `*` for any.
- `<project_id>` alone is not a grant (keystoneauth requires the `:` form).

Who owns an account is decided by roles (see `objectstore.api.auth`): `member` and `admin` own
the token's project; `reader` reads it; any other role gives access only through these ACLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from identity.tokens import TokenContext
from portal.errors import ValidationFailed

MAX_ACL_LENGTH = 8192


@dataclass(frozen=True)
class Acl:
    """A parsed container ACL: referrer patterns, listing flag and project:user grants."""

    referrers: tuple[str, ...] = ()
    listings: bool = False
    grants: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def clean(value: str) -> str:
    """Validate and normalise an ACL header value (400 for an invalid grant)."""
    if len(value) > MAX_ACL_LENGTH:
        raise ValidationFailed("ACL too long")
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item.startswith(".r:"):
            if not item[3:] or item[3:] in ("-", "."):
                raise ValidationFailed(f"Referrer designation without a value: {item}")
        elif item.startswith(".") and item != ".rlistings":
            raise ValidationFailed(f"Unknown designator {item!r} in ACL")
    return ",".join(items)


def parse(value: str) -> Acl:
    """Parse a stored ACL string (unknown items are ignored)."""
    referrers: list[str] = []
    grants: list[tuple[str, str]] = []
    listings = False
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item == ".rlistings":
            listings = True
        elif item.startswith(".r:"):
            referrers.append(item[3:])
        elif ":" in item:
            project, _, user = item.partition(":")
            grants.append((project.strip(), user.strip()))
        elif item == "*":
            grants.append(("*", "*"))
    return Acl(referrers=tuple(referrers), listings=listings, grants=tuple(grants))


def referrer_allowed(referrer: str, patterns: tuple[str, ...]) -> bool:
    """Swift's referrer rule: the last matching pattern decides (`-` denies)."""
    host = (urlparse(referrer).hostname or "") if referrer else ""
    allowed = False
    for pattern in patterns:
        deny = pattern.startswith("-")
        target = pattern[1:] if deny else pattern
        if target == "*" or _host_matches(host, target):
            allowed = not deny
    return allowed


def _host_matches(host: str, target: str) -> bool:
    """`example.com` matches itself; `.example.com` matches it and every subdomain."""
    if not host:
        return False
    if target.startswith("*."):
        target = target[1:]
    if target.startswith("."):
        return host == target[1:] or host.endswith(target)
    return host == target


def user_granted(acl: Acl, ctx: TokenContext | None) -> bool:
    """Whether a token's project and user match one of the ACL's `project:user` grants."""
    if ctx is None:
        return False
    projects = {"*", ctx.project_id or "", ctx.project_name or ""} - {""}
    users = {"*", ctx.user_id, ctx.user_name} - {""}
    return any(p in projects and u in users for p, u in acl.grants)


def may_read(read_acl: str, ctx: TokenContext | None, referrer: str, *, listing: bool) -> bool:
    """Whether the read ACL lets this caller read objects (or, with `listing`, list the container)."""
    acl = parse(read_acl)
    if user_granted(acl, ctx):
        return True
    if referrer_allowed(referrer, acl.referrers):
        return acl.listings or not listing
    return False


def may_write(write_acl: str, ctx: TokenContext | None) -> bool:
    """Whether the write ACL lets this token's user create, change or delete objects."""
    return user_granted(parse(write_acl), ctx)
