"""The quota ledger service: holdings, the two-phase commission bracket, resolution and audit."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.quota_models import Commission, Holding, Provision
from identity.services import quotas
from identity.tasks import resolve_pending_commissions
from portal.errors import Conflict, InvalidState, NotFound, QuotaExceeded, ValidationFailed
from portal.models import AuditEvent
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

_keys = itertools.count()


def charge(project, provisions, *, user=None, key=None, client="test"):
    """Issue a commission with a fresh idempotency key."""
    return quotas.issue(project, provisions, actor=None, client=client, client_key=key or f"k{next(_keys)}", user=user)


def holding(project, name, user=None) -> Holding:
    return Holding.objects.with_bracket().get(project=project, user=user, resource_id=name)


def bracket(project, name, user=None) -> tuple[int, int]:
    return (h := holding(project, name, user)).usage_min, h.usage_max


def age(commission: Commission, seconds: int = 3600) -> None:
    """Pretend the commission was issued `seconds` ago."""
    Commission.objects.filter(pk=commission.pk).update(issued_at=timezone.now() - timedelta(seconds=seconds))


@pytest.fixture(autouse=True)
def _no_resolvers(monkeypatch):
    """Each test starts with no resolvers (apps may register theirs at start-up)."""
    monkeypatch.setattr(quotas, "_resolvers", {})


def test_ensure_holdings_creates_default_limits_when_missing(project, resources):
    held = quotas.ensure_holdings(project)
    assert {(h.resource_id, h.limit) for h in held} >= {("test.cores", 10), ("test.ram", 4096)}
    assert all(h.usage_min == h.usage_max == 0 for h in held)


def test_ensure_holdings_skips_user_holdings_when_resource_has_no_user_limit(project, member, resources):
    held = quotas.ensure_holdings(project, member)
    assert [(h.resource_id, h.limit) for h in held if h.resource_id.startswith("test.")] == [("test.cores", 4)]


def test_ensure_holdings_keeps_existing_limits_when_called_again(project, member, resources):
    quotas.set_limit(project, "test.cores", 3, actor=None)
    quotas.set_limit(project, "test.ram", 7, actor=None, user=member)
    quotas.ensure_holdings(project)
    held = quotas.ensure_holdings(project, member)
    assert holding(project, "test.cores").limit == 3
    assert {h.resource_id: h.limit for h in held}["test.ram"] == 7


def test_issue_widens_usage_max_when_provision_positive(project, resources):
    commission = charge(project, {"test.cores": 3, "test.ram": 512})
    assert commission.state == Commission.State.PENDING
    assert (bracket(project, "test.cores"), bracket(project, "test.ram")) == ((0, 3), (0, 512))
    assert sorted(commission.provisions.values_list("quantity", flat=True)) == [3, 512]


def test_issue_creates_holdings_when_project_has_none(project, resources):
    assert not Holding.objects.filter(project=project).exists()
    charge(project, {"test.cores": 1})
    assert holding(project, "test.cores").limit == 10


def test_issue_drops_zero_quantities_when_given(project, resources):
    commission = charge(project, {"test.cores": 1, "test.ram": 0})
    assert list(commission.provisions.values_list("holding__resource_id", flat=True)) == ["test.cores"]


def test_issue_returns_same_commission_when_key_and_provisions_repeat(project, resources):
    first = charge(project, {"test.cores": 2}, key="same")
    again = charge(project, {"test.cores": 2}, key="same")
    assert again.serial == first.serial
    assert bracket(project, "test.cores") == (0, 2)
    assert AuditEvent.objects.filter(action="quota.issue").count() == 1


def test_issue_raises_conflict_when_key_reused_for_another_request(project, resources):
    charge(project, {"test.cores": 2}, key="same")
    with pytest.raises(Conflict):
        charge(project, {"test.cores": 3}, key="same")
    with pytest.raises(Conflict):
        charge(ProjectFactory(), {"test.cores": 2}, key="same")
    assert bracket(project, "test.cores") == (0, 2)


def test_issue_allows_charge_when_it_reaches_the_limit_exactly(project, resources):
    charge(project, {"test.cores": 10})
    assert bracket(project, "test.cores") == (0, 10)


def test_issue_raises_quota_exceeded_when_pending_usage_would_pass_limit(project, resources):
    charge(project, {"test.cores": 6})
    with pytest.raises(QuotaExceeded) as info:
        charge(project, {"test.cores": 5})
    assert (info.value.resource, info.value.limit, info.value.usage, info.value.requested) == ("test.cores", 10, 6, 5)
    assert info.value.status == 413


def test_issue_changes_nothing_but_audits_failure_when_refused(project, resources):
    charge(project, {"test.ram": 100})
    with pytest.raises(QuotaExceeded):
        charge(project, {"test.ram": 100, "test.cores": 11}, key="too-big")
    assert bracket(project, "test.ram") == (0, 100)
    assert bracket(project, "test.cores") == (0, 0)
    assert not Commission.objects.filter(client_key="too-big").exists()
    failure = AuditEvent.objects.get(action="quota.issue", result=AuditEvent.Result.FAILURE)
    assert failure.project_id == project.pk
    assert failure.detail["client_key"] == "too-big"
    assert "test.cores" in failure.detail["error"]


def test_issue_raises_validation_failed_when_release_exceeds_usage(project, resources):
    quotas.accept(charge(project, {"test.cores": 2}).serial)
    with pytest.raises(ValidationFailed):
        charge(project, {"test.cores": -3})
    assert bracket(project, "test.cores") == (2, 2)
    assert AuditEvent.objects.filter(action="quota.issue", result="failure").count() == 1


def test_issue_raises_validation_failed_when_resource_unknown(project, resources):
    with pytest.raises(ValidationFailed, match=r"no\.such"):
        charge(project, {"no.such": 1})
    assert not Commission.objects.exists()


@pytest.mark.parametrize("quantity", [1.5, "2", True, None, 2**63])
def test_issue_raises_validation_failed_when_quantity_invalid(project, resources, quantity):
    with pytest.raises(ValidationFailed):
        charge(project, {"test.cores": quantity})


@pytest.mark.parametrize(("client", "key"), [("", "k"), ("test", "")])
def test_issue_raises_validation_failed_when_client_or_key_missing(project, resources, client, key):
    with pytest.raises(ValidationFailed):
        quotas.issue(project, {"test.cores": 1}, actor=None, client=client, client_key=key)


def test_issue_charges_user_holding_when_user_given(project, member, resources):
    charge(project, {"test.cores": 3, "test.ram": 64}, user=member)
    assert bracket(project, "test.cores") == (0, 3)
    assert bracket(project, "test.cores", member) == (0, 3)
    assert not Holding.objects.filter(project=project, user=member, resource_id="test.ram").exists()


def test_issue_raises_quota_exceeded_when_user_limit_reached(project, member, resources):
    charge(project, {"test.cores": 4}, user=member)
    with pytest.raises(QuotaExceeded, match="per-user"):
        charge(project, {"test.cores": 1}, user=member)
    charge(project, {"test.cores": 1})  # the project itself still has room
    assert bracket(project, "test.cores") == (0, 5)


def test_issue_audits_success_when_issued(project, member, resources):
    commission = quotas.issue(
        project, {"test.cores": 1}, actor=member, client="compute", client_key="srv-1", reason="server.create"
    )
    event = AuditEvent.objects.get(action="quota.issue")
    assert (event.actor_id, event.project_id, event.result) == (member.pk, project.pk, "success")
    assert (event.target_id, event.detail["reason"]) == (str(commission.serial), "server.create")
    assert (event.target_type, event.target_repr) == (
        "identity.commission",
        f"commission {commission.serial} (pending)",
    )
    assert event.detail["provisions"] == {"test.cores": 1}
    assert Commission.objects.get(pk=commission.serial).issued_at == commission.issued_at


@pytest.mark.parametrize(
    ("start", "quantity", "pending", "settle", "expected"),
    [
        (0, 3, (0, 3), quotas.accept, (3, 3)),
        (0, 3, (0, 3), quotas.reject, (0, 0)),
        (5, -2, (3, 5), quotas.accept, (3, 3)),
        (5, -2, (3, 5), quotas.reject, (5, 5)),
    ],
)
def test_bracket_moves_the_right_end_when_issued_then_settled(
    project, resources, start, quantity, pending, settle, expected
):
    if start:
        quotas.accept(charge(project, {"test.cores": start}).serial)
    commission = charge(project, {"test.cores": quantity})
    assert bracket(project, "test.cores") == pending
    settle(commission.serial)
    assert bracket(project, "test.cores") == expected


def test_accept_settles_user_holding_when_commission_has_one(project, member, resources):
    quotas.accept(charge(project, {"test.cores": 2}, user=member).serial)
    assert bracket(project, "test.cores", member) == (2, 2)
    assert bracket(project, "test.cores") == (2, 2)


@pytest.mark.parametrize(
    ("settle", "action", "expected"), [(quotas.accept, "accept", (2, 2)), (quotas.reject, "reject", (0, 0))]
)
def test_settle_is_noop_when_repeated(project, resources, settle, action, expected):
    commission = charge(project, {"test.cores": 2})
    settle(commission.serial)
    assert settle(commission.serial).state == Commission.objects.get(pk=commission.pk).state
    assert bracket(project, "test.cores") == expected
    assert AuditEvent.objects.filter(action=f"quota.{action}").count() == 1


@pytest.mark.parametrize(
    ("first", "then", "expected"), [(quotas.reject, quotas.accept, (0, 0)), (quotas.accept, quotas.reject, (2, 2))]
)
def test_settle_raises_invalid_state_when_settled_the_other_way(project, resources, first, then, expected):
    commission = charge(project, {"test.cores": 2})
    first(commission.serial)
    with pytest.raises(InvalidState):
        then(commission.serial)
    assert bracket(project, "test.cores") == expected


def test_accept_raises_not_found_when_serial_unknown(db):
    with pytest.raises(NotFound):
        quotas.accept(987654)


def test_accept_records_audit_when_settled(project, member, resources):
    commission = charge(project, {"test.cores": 2})
    quotas.accept(commission.serial, actor=member)
    event = AuditEvent.objects.get(action="quota.accept")
    assert (event.actor_id, event.project_id, event.target_id) == (member.pk, project.pk, str(commission.serial))
    assert event.detail == {"via": "client", "client": "test", "provisions": {"test.cores": 2}}
    assert (event.target_type, event.target_repr) == (
        "identity.commission",
        f"commission {commission.serial} (accepted)",
    )


def test_resolve_pending_rejects_stale_commission_when_client_has_no_resolver(project, resources):
    stale, fresh = charge(project, {"test.cores": 2}), charge(project, {"test.cores": 3})
    age(stale)
    counts = quotas.resolve_pending()
    assert counts == {"examined": 1, "accepted": 0, "rejected": 1, "left": 0, "skipped": 0}
    assert Commission.objects.get(pk=stale.pk).state == Commission.State.REJECTED
    assert Commission.objects.get(pk=fresh.pk).state == Commission.State.PENDING
    assert bracket(project, "test.cores") == (0, 3)
    assert AuditEvent.objects.get(action="quota.reject").detail["via"] == "resolver"


def test_resolve_pending_follows_resolver_when_client_registered_one(project, resources):
    decisions = {"yes": True, "no": False, "wait": None}
    quotas.register_resolver("compute", lambda c: decisions[c.target])
    serials = {}
    for target in decisions:
        serials[target] = quotas.issue(
            project, {"test.cores": 1}, actor=None, client="compute", client_key=target, target=target
        ).serial
    counts = quotas.resolve_pending(older_than_seconds=0)
    assert counts == {"examined": 3, "accepted": 1, "rejected": 1, "left": 1, "skipped": 0}
    states = {t: Commission.objects.get(pk=s).state for t, s in serials.items()}
    assert states == {"yes": "accepted", "no": "rejected", "wait": "pending"}
    assert bracket(project, "test.cores") == (1, 2)


def test_resolve_pending_counts_skipped_when_client_settled_meanwhile(project, resources):
    def settle_first(commission):
        quotas.accept(commission.serial)  # the client got there first
        return False

    quotas.register_resolver("racy", settle_first)
    charge(project, {"test.cores": 1}, client="racy")
    assert quotas.resolve_pending(0)["skipped"] == 1
    assert bracket(project, "test.cores") == (1, 1)


def test_resolve_pending_changes_nothing_when_dry_run(project, resources):
    age(charge(project, {"test.cores": 2}))
    counts = quotas.resolve_pending(dry_run=True)
    assert counts["rejected"] == 1
    assert Commission.objects.get().state == Commission.State.PENDING
    assert bracket(project, "test.cores") == (0, 2)


def test_resolve_task_rejects_stale_commissions_when_run(project, resources):
    age(charge(project, {"test.cores": 2}))
    assert resolve_pending_commissions()["rejected"] == 1
    assert bracket(project, "test.cores") == (0, 0)


def test_resolve_command_reports_without_changing_when_dry_run(project, resources, capsys):
    age(charge(project, {"test.cores": 2}))
    call_command("resolve_commissions", "--dry-run")
    assert "would settle: examined 1, accepted 0, rejected 1" in capsys.readouterr().out
    assert Commission.objects.get().state == Commission.State.PENDING
    call_command("resolve_commissions", "--older-than", "0")
    assert Commission.objects.get().state == Commission.State.REJECTED


def test_set_limit_updates_holding_and_audits_when_changed(project, member, resources):
    quotas.ensure_holdings(project)
    quotas.set_limit(project, "test.cores", 20, actor=member)
    assert holding(project, "test.cores").limit == 20
    event = AuditEvent.objects.get(action="quota.set_limit")
    assert event.detail == {"resource": "test.cores", "limit": 20, "previous": 10, "user_id": None}
    assert event.actor_id == member.pk


def test_set_limit_allows_limit_below_usage_when_lowered(project, resources):
    quotas.accept(charge(project, {"test.cores": 5}).serial)
    quotas.set_limit(project, "test.cores", 2, actor=None)
    with pytest.raises(QuotaExceeded):
        charge(project, {"test.cores": 1})
    charge(project, {"test.cores": -1})


def test_set_limit_creates_user_holding_when_missing(project, member, resources):
    quotas.set_limit(project, "test.ram", 256, actor=None, user=member)
    assert holding(project, "test.ram", member).limit == 256
    with pytest.raises(QuotaExceeded):
        charge(project, {"test.ram": 257}, user=member)


@pytest.mark.parametrize(("resource", "limit"), [("test.cores", -1), ("test.cores", "5"), ("no.such", 5)])
def test_set_limit_raises_validation_failed_when_input_invalid(project, resources, resource, limit):
    with pytest.raises(ValidationFailed):
        quotas.set_limit(project, resource, limit, actor=None)
    assert not AuditEvent.objects.exists()


def test_usage_reports_defaults_when_project_has_no_holdings(project, resources):
    row = next(r for r in quotas.usage(project) if r["resource"] == "test.ram")
    assert row == dict(resource="test.ram", limit=4096, usage=0, pending=0, unit="MiB", description="Memory")
    assert not Holding.objects.exists()


def test_usage_reports_accepted_and_pending_when_commissions_exist(project, resources):
    quotas.accept(charge(project, {"test.cores": 3}).serial)
    charge(project, {"test.cores": 2})
    row = next(r for r in quotas.usage(project) if r["resource"] == "test.cores")
    assert (row["limit"], row["usage"], row["pending"]) == (10, 3, 2)


def test_user_usage_lists_only_user_limited_resources_when_asked(project, member, resources):
    quotas.accept(charge(project, {"test.cores": 1}, user=member).serial)
    rows = [r for r in quotas.user_usage(project, member) if r["resource"].startswith("test.")]
    assert [(r["resource"], r["limit"], r["usage"]) for r in rows] == [("test.cores", 4, 1)]


_operations = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(min_value=-6, max_value=8)),
        st.tuples(st.sampled_from(["accept", "reject"]), st.integers(min_value=0, max_value=30)),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=0, max_value=12), operations=_operations)
def test_ledger_never_passes_limit_and_usage_equals_accepted_when_all_resolved(resources, limit, operations):
    project = ProjectFactory()
    quotas.set_limit(project, "test.cores", limit, actor=None)
    pending: list[tuple[int, int]] = []
    accepted = 0
    low = high = 0  # the model of the bracket
    for op, value in operations:
        if op == "issue":
            refused = (value > 0 and high + value > limit) or (value < 0 and low + value < 0)
            try:
                commission = charge(project, {"test.cores": value}, client="prop")
            except (QuotaExceeded, ValidationFailed):
                assert refused
            else:
                assert not refused
                if value:
                    pending.append((commission.serial, value))
                    high, low = (high + value, low) if value > 0 else (high, low + value)
        elif pending:
            serial, quantity = pending.pop(value % len(pending))
            if op == "accept":
                quotas.accept(serial)
                accepted += quantity
                low, high = (low + quantity, high) if quantity > 0 else (low, high + quantity)
            else:
                quotas.reject(serial)
                low, high = (low, high - quantity) if quantity > 0 else (low - quantity, high)
        current = holding(project, "test.cores")
        assert (current.usage_min, current.usage_max) == (low, high)
        assert current.usage_max <= limit
    quotas.resolve_pending(older_than_seconds=0)
    current = holding(project, "test.cores")
    assert current.usage_min == current.usage_max == accepted
    accepted_in_db = Provision.objects.filter(holding=current, commission__state=Commission.State.ACCEPTED).values_list(
        "quantity", flat=True
    )
    assert sum(accepted_in_db) == accepted
