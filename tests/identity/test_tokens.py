"""Signed tokens: encoding, tampering, expiry and every kind of revocation."""

from __future__ import annotations

import time

import pytest

from identity import tokens
from identity.services import revocation
from identity.tokens import TokenContext
from portal.errors import Unauthorized


def make_ctx(**overrides) -> TokenContext:
    now = time.time()
    values = dict(
        user_id="u1",
        user_name="alice",
        user_domain_id="default",
        project_id="p1",
        project_name="demo",
        project_domain_id="default",
        roles=("member", "reader"),
        methods=("password",),
        issued_at=now,
        expires_at=now + 3600,
        audit_id=tokens.new_audit_id(),
    )
    values.update(overrides)
    return TokenContext(**values)


@pytest.mark.django_db
def test_token_roundtrips_when_signed_and_unexpired():
    ctx = make_ctx()
    decoded = tokens.validate(tokens.encode(ctx))
    assert decoded.user_id == "u1" and decoded.project_id == "p1"
    assert decoded.roles == ("member", "reader") and decoded.audit_id == ctx.audit_id
    assert not decoded.is_admin


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: t.split(".")[0],
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: "!!!.???",
    ],
)
def test_token_rejected_when_tampered(mutate):
    token = tokens.encode(make_ctx())
    with pytest.raises(Unauthorized):
        tokens.decode(mutate(token))


def test_token_rejected_when_payload_changed_but_signature_kept():
    token = tokens.encode(make_ctx())
    other = tokens.encode(make_ctx(roles=("admin",)))
    forged = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(Unauthorized):
        tokens.decode(forged)


def test_token_rejected_when_expired():
    token = tokens.encode(make_ctx(issued_at=time.time() - 10, expires_at=time.time() - 1))
    with pytest.raises(Unauthorized, match="expired"):
        tokens.decode(token)


@pytest.mark.django_db(transaction=True)
def test_token_revoked_when_its_audit_id_is_revoked():
    ctx = make_ctx()
    other = make_ctx()
    revocation.revoke_token(ctx)
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.validate(tokens.encode(ctx))
    assert tokens.validate(tokens.encode(other)).audit_id == other.audit_id


@pytest.mark.django_db(transaction=True)
def test_rescoped_token_revoked_when_parent_is_revoked():
    parent = make_ctx()
    child = make_ctx(parent_audit_id=parent.audit_id)
    revocation.revoke_token(parent)
    with pytest.raises(Unauthorized):
        tokens.validate(tokens.encode(child))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "revoke, matches, spared",
    [
        (lambda: revocation.revoke_user("u1"), {"user_id": "u1"}, {"user_id": "u2"}),
        (lambda: revocation.revoke_project("p1"), {"project_id": "p1"}, {"project_id": "p2"}),
        (
            lambda: revocation.revoke_user_on_project("u1", "p1"),
            {"user_id": "u1", "project_id": "p1"},
            {"user_id": "u1", "project_id": "p2"},
        ),
        (lambda: revocation.revoke_app_credential("c1"), {"app_cred_id": "c1"}, {"app_cred_id": "c2"}),
    ],
)
def test_tokens_revoked_when_issued_before_a_matching_event(revoke, matches, spared):
    before = make_ctx(issued_at=time.time() - 1, **matches)
    unrelated = make_ctx(issued_at=time.time() - 1, **spared)
    revoke()
    after = make_ctx(issued_at=time.time() + 0.001, **matches)
    with pytest.raises(Unauthorized):
        tokens.validate(tokens.encode(before))
    assert tokens.validate(tokens.encode(unrelated))
    assert tokens.validate(tokens.encode(after))


@pytest.mark.django_db(transaction=True)
def test_revocation_seen_by_another_process_view_when_stamp_is_touched():
    """A second RevocationView (as in another worker process) sees a revocation at once."""
    ctx = make_ctx()
    other_process = tokens.RevocationView()
    other_process.refresh_if_stale()
    assert not other_process.is_revoked(ctx)
    revocation.revoke_token(ctx)  # commits, then touches the stamp file
    other_process.refresh_if_stale()
    assert other_process.is_revoked(ctx)


def test_format_time_ends_in_z():
    assert tokens.format_time(0) == "1970-01-01T00:00:00.000000Z"


@pytest.mark.django_db
def test_prune_deletes_only_events_older_than_token_lifetime():
    from datetime import timedelta

    from django.utils import timezone

    from identity.models import RevocationEvent
    from identity.tasks import prune_revocations

    old = revocation.revoke_user("old-user")
    RevocationEvent.objects.filter(pk=old.pk).update(revoked_at=timezone.now() - timedelta(days=2))
    fresh = revocation.revoke_user("fresh-user")
    assert prune_revocations() == 1
    assert list(RevocationEvent.objects.values_list("pk", flat=True)) == [fresh.pk]
