"""The quota ledger under real concurrency on PostgreSQL: 32 threads, each with its own connection.

Run with `DATABASE_URL=postgres://postgres@127.0.0.1:5432/nefos pytest tests/identity/test_quotas_postgres.py`;
skipped on SQLite (whose single writer serialises everything and proves nothing here).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from identity.quota_models import Commission, Holding, Provision, Resource
from identity.services import ledger_fast, quotas
from portal.errors import QuotaExceeded
from portal.models import AuditEvent
from tests import concurrency
from tests.factories import ProjectFactory

THREADS = 32

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL (DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_threads(work: Callable[[int], Any]) -> list[Any]:
    """`tests.concurrency.run_threads` with THREADS threads."""
    return concurrency.run_threads(work, THREADS)


@pytest.fixture
def ledger():
    """A project with two resources, limits 40 cores and 40 GiB."""
    Resource.objects.create(name="pg.cores", default_project_limit=40)
    Resource.objects.create(name="pg.gib", default_project_limit=40)
    project = ProjectFactory()
    quotas.ensure_holdings(project)
    yield project
    quotas.unregister_resolver("pg-resolved")


def brackets(project) -> dict[str, tuple[int, int]]:
    return {
        h.resource_id: (h.usage_min, h.usage_max)
        for h in Holding.objects.with_bracket().filter(project=project, user=None)
    }


def test_concurrent_issues_never_pass_limit_when_32_threads_race(ledger):
    def work(i: int) -> int:
        granted = 0
        for n in range(5):
            # Keys in both orders: locking in primary-key order must keep this deadlock-free.
            provisions = {"pg.cores": 1, "pg.gib": 1} if (i + n) % 2 else {"pg.gib": 1, "pg.cores": 1}
            try:
                quotas.issue(ledger, provisions, actor=None, client="pg", client_key=f"{i}-{n}")
            except QuotaExceeded:
                continue
            granted += 1
        return granted

    granted = sum(run_threads(work))
    assert granted == 40  # 160 attempts at 1 unit each against a limit of 40
    assert brackets(ledger) == {"pg.cores": (0, 40), "pg.gib": (0, 40)}
    assert Commission.objects.filter(project=ledger).count() == 40


def test_concurrent_settling_leaves_usage_equal_to_accepted_when_resolved(ledger):
    quotas.register_resolver("pg-resolved", lambda c: c.serial % 2 == 0)

    def work(i: int) -> dict[str, int]:
        rng = random.Random(i)
        accepted = {"pg.cores": 0, "pg.gib": 0}
        for n in range(8):
            cores, gib = rng.randint(1, 3), rng.randint(1, 2)
            client = "pg-resolved" if i % 2 else "pg-orphaned"
            try:
                commission = quotas.issue(
                    ledger, {"pg.cores": cores, "pg.gib": gib}, actor=None, client=client, client_key=f"{i}-{n}"
                )
            except QuotaExceeded:
                continue
            choice = rng.choice(["accept", "reject", "leave"])
            if choice == "accept":
                quotas.accept(commission.serial)
                accepted["pg.cores"] += cores
                accepted["pg.gib"] += gib
            elif choice == "reject":
                quotas.reject(commission.serial)
            if n % 3 == 0:  # give some capacity back, concurrently with the others' charges
                release = min(accepted["pg.cores"], 1)
                if release:
                    quotas.accept(
                        quotas.issue(
                            ledger, {"pg.cores": -release}, actor=None, client="pg-release", client_key=f"r{i}-{n}"
                        ).serial
                    )
                    accepted["pg.cores"] -= release
        return accepted

    run_threads(work)
    during = brackets(ledger)
    assert all(high <= 40 for _, high in during.values())

    counts = quotas.resolve_pending(older_than_seconds=0)
    assert counts["examined"] == counts["accepted"] + counts["rejected"]
    assert not Commission.objects.filter(state=Commission.State.PENDING).exists()

    after = brackets(ledger)
    for name in ("pg.cores", "pg.gib"):
        accepted = sum(
            Provision.objects.filter(
                holding__project=ledger, holding__resource_id=name, commission__state=Commission.State.ACCEPTED
            ).values_list("quantity", flat=True)
        )
        assert after[name] == (accepted, accepted)
        assert accepted <= 40


def _commit_mode_after(settle, serial: int) -> str:
    with transaction.atomic():
        settle(serial)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]


@pytest.mark.parametrize("settle", [quotas.accept, quotas.reject])
def test_settling_commits_asynchronously_only_when_client_has_resolver(ledger, settle):
    quotas.register_resolver("pg-resolved", lambda c: True)
    repaired = quotas.issue(ledger, {"pg.cores": 1}, actor=None, client="pg-resolved", client_key="a")
    orphan = quotas.issue(ledger, {"pg.cores": 1}, actor=None, client="pg-orphaned", client_key="b")

    assert _commit_mode_after(settle, repaired.serial) == "off"
    assert _commit_mode_after(settle, orphan.serial) == "on"
    assert Commission.objects.get(pk=orphan.serial).state == ("accepted" if settle is quotas.accept else "rejected")


def test_issue_refuses_the_first_full_holding_and_keeps_the_others_when_charging_several(ledger):
    quotas.issue(ledger, {"pg.gib": 40}, actor=None, client="pg", client_key="fill")

    with pytest.raises(QuotaExceeded) as refused:
        quotas.issue(ledger, {"pg.cores": 1, "pg.gib": 1}, actor=None, client="pg", client_key="both")

    assert refused.value.resource == "pg.gib"
    assert brackets(ledger) == {"pg.cores": (0, 0), "pg.gib": (0, 40)}
    assert not Commission.objects.filter(client_key="both").exists()


def test_issue_outside_a_transaction_stands_alone_and_inside_one_rolls_back_with_it(ledger):
    quotas.issue(ledger, {"pg.cores": 2}, actor=None, client="pg", client_key="alone")

    with pytest.raises(RuntimeError), transaction.atomic():
        quotas.issue(ledger, {"pg.cores": 3}, actor=None, client="pg", client_key="inside")
        raise RuntimeError("the caller's transaction fails")

    assert brackets(ledger)["pg.cores"] == (0, 2)
    assert list(Commission.objects.values_list("client_key", flat=True)) == ["alone"]


def test_issue_retries_with_fresh_holding_ids_when_a_cached_one_is_gone(ledger):
    quotas.issue(ledger, {"pg.cores": 1}, actor=None, client="pg", client_key="warm")
    key = (str(ledger.pk), ("pg.cores",))
    assert key in ledger_fast._project_holdings
    ledger_fast._project_holdings[key] = [(10**12, "pg.cores", None)]  # a holding id that does not exist

    quotas.issue(ledger, {"pg.cores": 1}, actor=None, client="pg", client_key="after")

    assert brackets(ledger)["pg.cores"] == (0, 2)
    assert ledger_fast._project_holdings[key][0][0] == Holding.objects.get(project=ledger, resource="pg.cores").pk


def test_accept_in_one_statement_audits_the_commission_with_its_provisions(ledger):
    serial = quotas.issue(ledger, {"pg.cores": 2, "pg.gib": 3}, actor=None, client="pg", client_key="k").serial

    accepted = quotas.accept(serial)

    assert accepted.state == Commission.State.ACCEPTED
    assert quotas.accept(serial).state == Commission.State.ACCEPTED  # a replay changes nothing
    event = AuditEvent.objects.get(action="quota.accept", target_id=str(serial))
    assert event.detail == {"via": "client", "client": "pg", "provisions": {"pg.cores": 2, "pg.gib": 3}}
    assert event.project_id == str(ledger.pk)
    assert event.target_repr == f"commission {serial} (accepted)"
    assert brackets(ledger) == {"pg.cores": (2, 2), "pg.gib": (3, 3)}


def test_accepting_a_release_takes_the_general_path_and_lowers_usage(ledger):
    quotas.accept(quotas.issue(ledger, {"pg.cores": 5}, actor=None, client="pg", client_key="in").serial)
    release = quotas.issue(ledger, {"pg.cores": -2}, actor=None, client="pg", client_key="out")
    assert brackets(ledger)["pg.cores"] == (3, 5)

    quotas.accept(release.serial)

    assert brackets(ledger)["pg.cores"] == (3, 3)
    assert AuditEvent.objects.filter(action="quota.accept", target_id=str(release.serial)).count() == 1


def test_issue_on_its_own_by_a_client_with_a_resolver_commits_relaxed_and_counts(ledger):
    quotas.register_resolver("pg-resolved", lambda c: True)

    issued = quotas.issue(ledger, {"pg.cores": 4}, actor=None, client="pg-resolved", client_key="relaxed")

    assert Commission.objects.get(pk=issued.serial).state == Commission.State.PENDING
    assert brackets(ledger)["pg.cores"] == (0, 4)
    with connection.cursor() as cursor:  # the setting was the issuing transaction's only
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
