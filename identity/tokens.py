"""Keystone tokens: HMAC-signed, self-contained, revocable.

A token is `base64url(payload) "." base64url(HMAC-SHA256(payload))`. Validation needs no
database round trip: the signature and expiry are checked in-process, then the token is matched
against an in-memory view of revocation events. That view is refreshed when this host's
revocation stamp file changes (so a revocation is seen at once by every process on the host) and
at least every PORTAL_REVOCATION_REFRESH seconds from the database (for several hosts).
The payload is signed, not encrypted: it holds ids and role names, no secrets.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from portal.errors import Unauthorized


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.cache
def _key_for(secret_key: str) -> bytes:
    return hashlib.sha256(b"nefos-token-signing-v1:" + secret_key.encode()).digest()


def _signing_key() -> bytes:
    return _key_for(settings.SECRET_KEY)


@dataclass(frozen=True)
class TokenContext:
    """What a validated token says: who, scoped to which project, with which roles, until when."""

    user_id: str
    user_name: str
    user_domain_id: str
    project_id: str | None
    project_name: str | None
    project_domain_id: str | None
    roles: tuple[str, ...]
    methods: tuple[str, ...]
    issued_at: float
    expires_at: float
    audit_id: str
    app_cred_id: str | None = None
    parent_audit_id: str | None = None
    token: str = field(default="", compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        """Whether the token carries the admin role (cloud-wide admin, as in Keystone's default policy)."""
        return "admin" in self.roles

    @property
    def is_reader_only(self) -> bool:
        """Whether the token may only read (reader role and neither member nor admin)."""
        return "reader" in self.roles and not ({"member", "admin"} & set(self.roles))

    @property
    def audit_ids(self) -> list[str]:
        """Keystone's audit chain: this token's id, then the token it was rescoped from."""
        return [self.audit_id] + ([self.parent_audit_id] if self.parent_audit_id else [])

    @property
    def issued_at_dt(self) -> datetime:
        return datetime.fromtimestamp(self.issued_at, tz=UTC)

    @property
    def expires_at_dt(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, tz=UTC)


_FIELDS = {
    "user_id": "u",
    "user_name": "un",
    "user_domain_id": "ud",
    "project_id": "p",
    "project_name": "pn",
    "project_domain_id": "pd",
    "roles": "r",
    "methods": "m",
    "issued_at": "i",
    "expires_at": "e",
    "audit_id": "a",
    "app_cred_id": "c",
    "parent_audit_id": "pa",
}


def service_context(project: Any, *, name: str, roles: tuple[str, ...], ttl: float) -> TokenContext:
    """The authority an internal service acts with in `project` (no user, no token): the same
    checks as for an API caller with `roles` there, for `ttl` seconds."""
    now = time.time()
    return TokenContext(
        user_id="",
        user_name=name,
        user_domain_id=project.domain_id,
        project_id=project.pk,
        project_name=project.name,
        project_domain_id=project.domain_id,
        roles=roles,
        methods=(),
        issued_at=now,
        expires_at=now + ttl,
        audit_id="",
    )


def new_audit_id() -> str:
    """Return a random audit id in Keystone's format (22 url-safe characters)."""
    return _b64(secrets.token_bytes(16))


def encode(ctx: TokenContext) -> str:
    """Sign a token context and return the token string."""
    payload = {short: getattr(ctx, name) for name, short in _FIELDS.items() if getattr(ctx, name) is not None}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(_signing_key(), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


class _DecodedCache:
    """Recently verified tokens, so a token's signature and payload are checked once per process.

    Keyed by the whole token string: a changed byte misses the cache and is verified afresh.
    """

    MAX_ENTRIES = 20_000

    def __init__(self) -> None:
        self.entries: dict[str, TokenContext] = {}
        self.key = b""

    def get(self, token: str, key: bytes) -> TokenContext | None:
        if key != self.key:  # the secret key changed (tests override settings): forget everything
            self.entries.clear()
            self.key = key
        return self.entries.get(token)

    def put(self, token: str, ctx: TokenContext) -> None:
        if len(self.entries) >= self.MAX_ENTRIES:
            self.entries.clear()
        self.entries[token] = ctx


_decoded = _DecodedCache()


def decode(token: str) -> TokenContext:
    """Check a token's signature and expiry (not revocation) and return its context."""
    key = _signing_key()
    ctx = _decoded.get(token, key)
    if ctx is None:
        ctx = _verify(token, key)
        _decoded.put(token, ctx)
    if ctx.expires_at <= time.time():
        raise Unauthorized("The token has expired.")
    return ctx


def _verify(token: str, key: bytes) -> TokenContext:
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 4096:
        raise Unauthorized("The request you have made requires authentication.")
    try:
        expected = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise Unauthorized("The request you have made requires authentication.")
        raw = json.loads(_unb64(body))
        values = {name: raw.get(short) for name, short in _FIELDS.items()}
        values["roles"] = tuple(values["roles"] or ())
        values["methods"] = tuple(values["methods"] or ())
        ctx = TokenContext(**values, token=token)
        if not isinstance(ctx.expires_at, int | float) or not isinstance(ctx.issued_at, int | float):
            raise TypeError("bad timestamps")
    except (ValueError, TypeError, UnicodeError) as exc:
        raise Unauthorized("The request you have made requires authentication.") from exc
    return ctx


class RevocationView:
    """An in-memory index of revocation events, refreshed incrementally from the database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything (the next check reloads from the database)."""
        self.audit_ids: set[str] = set()
        self.by_user: dict[str, float] = {}
        self.by_project: dict[str, float] = {}
        self.by_user_project: dict[tuple[str, str], float] = {}
        self.by_app_cred: dict[str, float] = {}
        self.last_id = 0
        self.loaded_at = -1.0e9
        self.stamp_mtime = -1.0
        self.interval = 0.0

    def _stamp(self) -> float:
        try:
            return os.stat(revocation_stamp_path()).st_mtime_ns / 1e9
        except FileNotFoundError:
            return 0.0

    def refresh_if_stale(self) -> None:
        """Reload new events if the host stamp moved or the refresh interval passed."""
        stamp = self._stamp()
        if stamp == self.stamp_mtime and time.monotonic() - self.loaded_at < self.interval:
            return
        self.refresh(stamp)

    def refresh(self, stamp: float | None = None) -> None:
        """Load events newer than the last one seen."""
        from identity.models import RevocationEvent

        with self._lock:
            self.interval = settings.PORTAL_REVOCATION_REFRESH
            self.stamp_mtime = self._stamp() if stamp is None else stamp
            self.loaded_at = time.monotonic()
            rows = (
                RevocationEvent.objects.filter(id__gt=self.last_id)
                .order_by("id")
                .values_list("id", "audit_id", "user_id", "project_id", "app_cred_id", "issued_before")
            )
            for pk, audit_id, user_id, project_id, app_cred_id, before in rows:
                self.last_id = max(self.last_id, pk)
                if audit_id:
                    self.audit_ids.add(audit_id)
                elif app_cred_id:
                    _raise(self.by_app_cred, app_cred_id, before.timestamp())
                elif user_id and project_id:
                    _raise(self.by_user_project, (user_id, project_id), before.timestamp())
                elif user_id:
                    _raise(self.by_user, user_id, before.timestamp())
                elif project_id:
                    _raise(self.by_project, project_id, before.timestamp())

    def is_revoked(self, ctx: TokenContext) -> bool:
        """Whether any revocation event matches the token (a few hash lookups, whatever the count)."""
        if ctx.audit_id in self.audit_ids or (ctx.parent_audit_id and ctx.parent_audit_id in self.audit_ids):
            return True
        issued = ctx.issued_at
        if issued <= self.by_user.get(ctx.user_id, _NEVER):
            return True
        if ctx.project_id and (
            issued <= self.by_project.get(ctx.project_id, _NEVER)
            or issued <= self.by_user_project.get((ctx.user_id, ctx.project_id), _NEVER)
        ):
            return True
        return bool(ctx.app_cred_id) and issued <= self.by_app_cred.get(ctx.app_cred_id, _NEVER)


_NEVER = -1.0


def _raise(index: dict, key: object, value: float) -> None:
    if value > index.get(key, _NEVER):
        index[key] = value


revocations = RevocationView()


def revocation_stamp_path() -> str:
    """The file whose mtime tells processes on this host that revocations changed."""
    return _stamp_path_for(settings.DATA_DIR)


@functools.cache
def _stamp_path_for(data_dir: object) -> str:
    return str(Path(str(data_dir)) / "revocations.stamp")


def touch_revocation_stamp() -> None:
    """Tell every process on this host to reload revocations (called after a revocation commits)."""
    path = revocation_stamp_path()
    with open(path, "a"):
        pass
    os.utime(path, ns=(time.time_ns(), time.time_ns()))


def validate(token: str) -> TokenContext:
    """Return the context of a valid token, or raise Unauthorized (bad, expired or revoked)."""
    ctx = decode(token)
    revocations.refresh_if_stale()
    if revocations.is_revoked(ctx):
        raise Unauthorized("The token has been revoked.")
    return ctx


def format_time(ts: float) -> str:
    """Keystone's timestamp format, e.g. `2026-11-27T05:28:33.000000Z` (tempest wants the Z)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
