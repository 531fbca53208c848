"""Benchmark: apply 20,000 instance events to the database vs a bare UPDATE loop on the same rows.

The events mimic a job watcher's stream over 1,000 instances: in-order state and progress events,
with ~10% exact duplicates and ~10% late (out-of-order) ones that must be dropped. `apply_event`
(one conditional UPDATE each, autocommit, as the watcher runs) is timed against a loop of bare
`UPDATE ... SET status, backend_time WHERE id` statements on the same rows: the ratio says what
the ordering condition, the JSON columns and the ORM cost on top of the database's own write rate.
A second figure (one round) adds an `instance_changed` receiver, as compute will connect one:
each applied event then also reads its row back after commit.

Database: PostgreSQL `nefos_bench` when DATABASE_URL points at PostgreSQL (`make bench` does),
else a private SQLite file. Prints medians of ROUNDS rounds; removes the rows it made.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import uuid

from benchdb import setup_django

INSTANCES = 1_000
EVENTS = 20_000
ROUNDS = 3


def make_events(cluster_id: int, names: list[str], rng: random.Random) -> tuple[list, int]:
    """EVENTS events over `names`: fresh ones in cluster-time order, plus duplicates and late ones.

    Returns the events and how many of them must be dropped (the late ones).
    """
    from backend_ganeti.services.events import InstanceEvent

    statuses = ["running", "stopped"]
    clock = {name: 1_000.0 for name in names}
    events: list = []
    late = 0
    while len(events) < EVENTS:
        roll = rng.random()
        if events and roll < 0.10:
            events.append(rng.choice(events[-200:]))  # the same event delivered again
            continue
        name = rng.choice(names)
        if roll < 0.20 and clock[name] > 1_001.0:
            ts = clock[name] - rng.uniform(0.5, 1.0)  # an older event arriving late: dropped
            late += 1
        else:
            clock[name] += 1.0
            ts = clock[name]
        if rng.random() < 0.3:
            event = InstanceEvent(cluster_id, name, ts, "job", progress=rng.randint(0, 100))
        else:
            event = InstanceEvent(
                cluster_id,
                name,
                ts,
                "job",
                status=rng.choice(statuses),
                primary_node=rng.choice(["node1", "node2"]),
                vcpus=rng.randint(1, 4),
                fault="",
            )
        events.append(event)
    return events, late


def main() -> int:
    label = setup_django("events")
    from django.db import connection

    from backend_ganeti import signals
    from backend_ganeti.models import Cluster, Instance
    from backend_ganeti.services.events import apply_event

    tag = uuid.uuid4().hex[:8]
    cluster = Cluster.objects.create(name=f"bench-events-{tag}", kind="ganeti", endpoint="https://bench.invalid")
    names = [f"vm{i:05d}" for i in range(INSTANCES)]
    Instance.objects.bulk_create([Instance(cluster=cluster, name=n, status="running") for n in names])
    ids = dict(Instance.objects.filter(cluster=cluster).values_list("name", "pk"))
    events, late = make_events(cluster.pk, names, random.Random(42))
    table = Instance._meta.db_table

    def reset() -> None:
        Instance.objects.filter(cluster=cluster).update(backend_time=0.0, progress=None)

    def run_events() -> tuple[float, int]:
        reset()
        started = time.perf_counter()
        applied = sum(apply_event(e) for e in events)
        return EVENTS / (time.perf_counter() - started), applied

    def run_baseline() -> float:
        reset()
        rows = [(e.status or "running", e.timestamp, ids[e.name]) for e in events]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for row in rows:
                cursor.execute(f"UPDATE {table} SET status = %s, backend_time = %s WHERE id = %s", row)
        return EVENTS / (time.perf_counter() - started)

    def receiver(sender, instance, event, **kwargs) -> None:
        pass

    try:
        ev_rates, base_rates = [], []
        applied = 0
        for _ in range(ROUNDS):
            base_rates.append(run_baseline())
            rate, applied = run_events()
            ev_rates.append(rate)
        signals.instance_changed.connect(receiver, sender=Instance)
        sig = run_events()[0]  # one round: each applied event then re-reads its row for the receiver
        signals.instance_changed.disconnect(receiver, sender=Instance)
        run_events()  # leave the rows as the plain runs do, for the check below
        # Correctness of the last run: every row ends at its newest event's time.
        newest: dict[str, float] = {}
        for e in events:
            if e.status is not None:
                newest[e.name] = max(newest.get(e.name, 0.0), e.timestamp)
        ends = dict(Instance.objects.filter(cluster=cluster).values_list("name", "backend_time"))
        ordered = all(ends[n] == newest.get(n, 0.0) for n in names)
        ev, base = statistics.median(ev_rates), statistics.median(base_rates)
        print(f"bench_backend_events: {label}, {EVENTS:,} events over {INSTANCES:,} instances, medians of {ROUNDS}:")
        print(f"  baseline bare UPDATE loop: {base:,.0f}/s")
        print(f"  apply_event:               {ev:,.0f}/s  ratio {ev / base:.2f}x")
        print(f"  apply_event + 1 receiver:  {sig:,.0f}/s  ratio {sig / base:.2f}x (one round)")
        print(
            f"  {late:,} events sent late and {EVENTS - applied:,} dropped as older than the row "
            f"(duplicates re-apply the same values); every row at its newest event: {ordered}"
        )
        return 0 if ordered else 1
    finally:
        Instance.objects.filter(cluster=cluster).delete()
        cluster.delete()


if __name__ == "__main__":
    sys.exit(main())
