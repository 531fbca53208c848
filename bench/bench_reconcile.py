"""Benchmark: reconcile simulated clusters of 250, 500, 1,000 and 2,000 instances (time grows linearly?).

Each cluster is an in-memory fake (tests/backend_ganeti/fake_driver.py, so no network time is
measured) with matching rows in the database, then drifted behind the portal's back: 5% of the
instances stopped, 1% gone, 1% unknown to the database, 2% with a running job (skipped). One
`reconcile_cluster(dry_run=False)` finds and fixes it all; a second, dry run on the now-synced
cluster is the pure comparison cost. Prints the median time per instance at each size and the
linearity ratio t(2000) / (8 x t(250)) (1.0 = linear; goal <= 1.25).

Database: PostgreSQL `nefos_bench` when DATABASE_URL points at PostgreSQL (`make bench` does),
else a private SQLite file. Removes the rows it made.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from dataclasses import replace

from benchdb import setup_django

SIZES = (250, 500, 1000, 2000)
ROUNDS = 3
GOAL = 1.25


def build(cloud, size: int, tag: str):
    """A synced cluster of `size` instances, then drifted; returns the cluster row."""
    from backend_ganeti.drivers.types import PowerState
    from backend_ganeti.models import Cluster, Instance, Job
    from backend_ganeti.services.events import info_fields

    cluster = Cluster.objects.create(name=f"bench-rec-{size}-{tag}", kind="ganeti", endpoint="https://bench.invalid")
    fake = cloud.cluster(cluster.name)
    infos = [fake.add_instance(f"vm{i:05d}", vcpus=1 + i % 4) for i in range(size)]
    Instance.objects.bulk_create(
        [
            Instance(cluster=cluster, name=i.name, owner_ref=i.name, backend_time=i.mtime, **info_fields(i))
            for i in infos
        ]
    )
    for n, info in enumerate(infos):
        if n % 20 == 0:
            fake.vms[info.name] = replace(info, power=PowerState.STOPPED, admin_up=False, mtime=info.mtime + 5)
        elif n % 100 == 1:
            del fake.vms[info.name]
        elif n % 50 == 3:
            Job.objects.create(cluster=cluster, operation="reboot", target=info.name, status="running",
                               instance=Instance.objects.get(cluster=cluster, name=info.name))  # fmt: skip
    for n in range(size // 100):
        fake.add_instance(f"stray{n:04d}")
    return cluster


def main() -> int:
    label = setup_django("reconcile")
    from backend_ganeti.drivers import registry
    from backend_ganeti.models import Cluster, Instance, Job
    from backend_ganeti.services.reconcile import reconcile_cluster
    from portal.models import AuditEvent
    from tests.backend_ganeti.fake_driver import FakeCloud

    cloud = FakeCloud()
    registry.driver_for = cloud.driver_for  # this process only: the fake clusters
    tag = uuid.uuid4().hex[:8]
    made: list[Cluster] = []
    per_instance: dict[int, float] = {}
    try:
        print(f"bench_reconcile: {label}, medians of {ROUNDS} rounds, fake clusters (no network):")
        for size in SIZES:
            fixing, comparing = [], []
            for round_ in range(ROUNDS):
                cluster = build(cloud, size, f"{tag}-{round_}")
                made.append(cluster)
                started = time.perf_counter()
                report = reconcile_cluster(cluster, dry_run=False)
                fixing.append(time.perf_counter() - started)
                started = time.perf_counter()
                check = reconcile_cluster(cluster, dry_run=True)
                comparing.append(time.perf_counter() - started)
                assert check.differences == len(check.missing_in_cluster), check.summary()
            fix, compare = statistics.median(fixing), statistics.median(comparing)
            per_instance[size] = fix / size
            print(
                f"  {size:5d} instances: reconcile+fix {fix * 1000:7.1f} ms ({fix / size * 1e6:5.1f} us/instance), "
                f"dry run in sync {compare * 1000:6.1f} ms ({compare / size * 1e6:5.1f} us/instance)"
            )
            print(f"        found: {report.summary()}")
        ratio = per_instance[SIZES[-1]] / per_instance[SIZES[0]]
        print(f"  linearity t({SIZES[-1]}) / ({SIZES[-1] // SIZES[0]} x t({SIZES[0]})): {ratio:.2f} (goal <= {GOAL})")
        return 0
    finally:
        for cluster in made:
            Job.objects.filter(cluster=cluster).delete()
            AuditEvent.objects.filter(target_type="backend_ganeti.cluster", target_id=str(cluster.pk)).delete()
            Instance.objects.filter(cluster=cluster).delete()
            cluster.delete()


if __name__ == "__main__":
    sys.exit(main())
