"""apply_event: ordered by cluster time, idempotent, progress-only events, signal after commit."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_ganeti import signals
from backend_ganeti.models import Instance
from backend_ganeti.services.events import InstanceEvent, apply_event, release_name
from tests.backend_ganeti.backend_factories import make_cluster

S = Instance.Status


@pytest.fixture
def row(db):
    cluster = make_cluster("a")
    return Instance.objects.create(cluster=cluster, name="vm1", status=S.BUILDING, backend_time=100.0)


def event(row: Instance, ts: float, status: str | None = S.RUNNING, **fields) -> InstanceEvent:
    return InstanceEvent(cluster_id=row.cluster_id, name=row.name, timestamp=ts, source="job", status=status, **fields)


def snapshot(row: Instance) -> tuple:
    row.refresh_from_db()
    return (row.status, row.vcpus, row.primary_node, row.fault, row.progress, row.backend_time)


def test_apply_event_updates_row_when_event_newer(row):
    assert apply_event(event(row, 200.0, vcpus=4, primary_node="node2", fault="")) is True
    assert snapshot(row) == (S.RUNNING, 4, "node2", "", None, 200.0)


def test_apply_event_drops_event_when_older_than_last_applied(row):
    apply_event(event(row, 200.0, status=S.STOPPED))
    assert apply_event(event(row, 150.0, status=S.RUNNING)) is False
    assert snapshot(row)[0] == S.STOPPED and row.backend_time == 200.0


def test_apply_event_leaves_same_row_when_applied_twice(row):
    e = event(row, 200.0, vcpus=2, fault="")
    apply_event(e)
    first = snapshot(row)
    apply_event(e)
    assert snapshot(row) == first


def test_apply_event_changes_only_progress_when_progress_event(row):
    assert apply_event(event(row, 300.0, status=None, progress=40)) is True
    assert snapshot(row) == (S.BUILDING, 1, "", "", 40, 100.0)


def test_apply_event_drops_progress_when_older_than_final_event(row):
    apply_event(event(row, 300.0, status=S.RUNNING))
    assert apply_event(event(row, 250.0, status=None, progress=40)) is False
    assert snapshot(row)[4] is None


def test_apply_event_ignores_other_cluster_when_names_match(row):
    other = make_cluster("b")
    Instance.objects.create(cluster=other, name="vm1", status=S.STOPPED)
    apply_event(event(row, 200.0))
    assert Instance.objects.get(cluster=other).status == S.STOPPED


def test_apply_event_sends_signal_after_commit_when_applied(row, django_capture_on_commit_callbacks):
    seen: list[tuple] = []

    def receiver(sender, instance, event, **kwargs):
        seen.append((instance.pk, instance.status, event.timestamp))

    signals.instance_changed.connect(receiver, sender=Instance)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            apply_event(event(row, 200.0))
            apply_event(event(row, 150.0))  # dropped: no signal
            assert seen == []
        assert len(callbacks) == 1
        assert seen == [(row.pk, S.RUNNING, 200.0)]
    finally:
        signals.instance_changed.disconnect(receiver, sender=Instance)


def test_release_name_renames_deleted_row_when_name_reused(row):
    Instance.objects.filter(pk=row.pk).update(status=S.DELETED, backend_time=500.0)
    assert release_name(row.cluster_id, "vm1") == 500.0
    row.refresh_from_db()
    assert row.name == f"vm1~deleted-{row.pk}"
    assert release_name(row.cluster_id, "vm2") == 0.0


STATUSES = [S.RUNNING, S.STOPPED, S.ERROR]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.integers(1, 50), st.sampled_from(STATUSES), st.integers(1, 8)), min_size=1, max_size=25),
    st.randoms(use_true_random=False),
)
def test_apply_event_ends_at_newest_event_when_events_duplicated_and_shuffled(row, history, rnd: random.Random):
    Instance.objects.filter(pk=row.pk).update(status=S.BUILDING, vcpus=1, backend_time=0.0)
    # One cluster history (one state per timestamp), delivered shuffled with duplicates.
    by_time = {ts: (status, vcpus) for ts, status, vcpus in history}
    deliveries = [event(row, float(ts), status=s, vcpus=v) for ts, (s, v) in by_time.items()]
    deliveries += [rnd.choice(deliveries) for _ in range(len(deliveries) // 2)]
    rnd.shuffle(deliveries)
    for e in deliveries:
        apply_event(e)
    newest = max(by_time)
    row.refresh_from_db()
    assert (row.status, row.vcpus, row.backend_time) == (*by_time[newest], float(newest))
