"""Allocation across clusters: placement's filters and score, reservations, NoCapacity, concurrency.

The concurrency tests need PostgreSQL (row locks); they are skipped on SQLite, whose single
writer serialises everything and would prove nothing. Run them with
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/nefos_allocation pytest tests/backend_ganeti/test_allocation.py`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from backend_ganeti.errors import NoCapacity
from backend_ganeti.models import Cluster, Instance
from backend_ganeti.services import allocation, placement
from backend_ganeti.services.placement import ClusterCapacity, NodeCapacity, NodePacker, Reason, Request
from portal.errors import ValidationFailed
from tests import concurrency
from tests.factories import ProjectFactory

GIB = 1024


def cap(name: str = "c", **fields: Any) -> ClusterCapacity:
    """A reachable, enabled, public cluster of 4 x (16 GiB, 8 cores, 100 GiB) unless overridden."""
    values = {
        "mem_total_mb": 64 * GIB,
        "mem_free_mb": 64 * GIB,
        "disk_total_mb": 400 * GIB,
        "disk_free_mb": 400 * GIB,
        "cpu_total": 32,
    }
    values.update(fields)
    return ClusterCapacity(name=name, **values)


def req(vcpus: int = 1, memory_mb: int = GIB, disk_mb: int = 10 * GIB, template: str = "plain", project=None):
    return Request(vcpus=vcpus, memory_mb=memory_mb, disk_mb=disk_mb, disk_template=template, project_id=project)


# --- placement: filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "request_", "reason"),
    [
        ({"state": "offline"}, req(), Reason.OFFLINE),
        ({"state": "drained"}, req(), Reason.DRAINED),
        ({"reachable": False}, req(), Reason.UNREACHABLE),
        ({"public": False}, req(project="p1"), Reason.PROJECT),
        ({"public": False, "project_ids": frozenset({"p2"})}, req(project="p1"), Reason.PROJECT),
        ({"disk_templates": ("file", "diskless")}, req(template="drbd"), Reason.TEMPLATE),
        ({"mem_free_mb": 2 * GIB, "reserved_mem_mb": GIB + 1}, req(), Reason.MEMORY),
        ({"disk_free_mb": 15 * GIB}, req(template="drbd"), Reason.DISK),
        ({"disk_free_mb": 20 * GIB, "reserved_disk_mb": 11 * GIB}, req(), Reason.DISK),
        ({"cpu_total": 2, "cpu_used": 7}, req(vcpus=2), Reason.CPU),
        ({"cpu_total": 2, "cpu_used": 4, "reserved_cpu": 3}, req(vcpus=2), Reason.CPU),
    ],
)
def test_rejection_names_filter_when_cluster_cannot_take_instance(fields, request_, reason):
    assert placement.rejection(cap(**fields), request_) == reason


@pytest.mark.parametrize(
    ("fields", "request_"),
    [
        ({"public": False, "project_ids": frozenset({"p1"})}, req(project="p1")),
        ({"disk_templates": ("file", "drbd")}, req(template="drbd")),
        ({"disk_templates": ()}, req(template="rbd")),
        ({"mem_free_mb": 2 * GIB, "reserved_mem_mb": GIB}, req()),  # exactly full
        ({"cpu_total": 2, "cpu_used": 6}, req(vcpus=2)),  # 2 cores x 4.0 = 8 vCPUs
        ({"disk_total_mb": 0, "disk_free_mb": 0}, req(disk_mb=500 * GIB)),  # storage not on the nodes
        ({"disk_free_mb": 0}, req(template="diskless")),
        ({"disk_free_mb": 0}, req(template="sharedfile")),
    ],
)
def test_rejection_none_when_cluster_fits(fields, request_):
    assert placement.rejection(cap(**fields), request_) is None


def test_rejection_uses_cpu_ratio_when_given():
    cluster = cap(cpu_total=2, cpu_used=2)

    assert placement.rejection(cluster, req(vcpus=1), cpu_ratio=1.0) == Reason.CPU
    assert placement.rejection(cluster, req(vcpus=1), cpu_ratio=1.5) is None


def test_disk_demand_counts_copies_when_template_replicates():
    assert [placement.disk_demand(t, 100) for t in ("plain", "file", "drbd", "diskless", "rbd", "weird")] == [
        100,
        100,
        200,
        0,
        0,
        100,
    ]


# --- placement: score and rank ------------------------------------------------------------------------


def test_score_prefers_emptier_cluster_when_others_busier():
    empty = cap("empty")
    busy_cpu = cap("busy-cpu", cpu_used=64)
    busy_mem = cap("busy-mem", mem_free_mb=32 * GIB)

    ranked = placement.rank([busy_mem, busy_cpu, empty], req())

    assert [c.name for c in ranked] == ["empty", "busy-mem", "busy-cpu"]  # CPU weighs 0.5, memory 0.25


def test_score_is_weighted_used_fraction_when_instance_placed():
    cluster = cap(cpu_total=10, cpu_used=19, mem_total_mb=1000, mem_free_mb=600, disk_total_mb=1000, disk_free_mb=900)

    value = placement.score(cluster, req(vcpus=1, memory_mb=100, disk_mb=100), cpu_ratio=4.0)

    assert value == pytest.approx(0.5 * 20 / 40 + 0.25 * 0.5 + 0.25 * 0.2)


def test_rank_counts_reservations_when_scoring():
    reserved = cap("a-reserved", reserved_mem_mb=32 * GIB, reserved_cpu=64)

    assert [c.name for c in placement.rank([reserved, cap("b-free")], req())] == ["b-free", "a-reserved"]


def test_rank_breaks_ties_by_name_when_scores_equal():
    assert [c.name for c in placement.rank([cap("b"), cap("a"), cap("c")], req())] == ["a", "b", "c"]


def test_rank_drops_clusters_when_filtered():
    assert [c.name for c in placement.rank([cap("ok"), cap("off", state="offline")], req())] == ["ok"]


# --- placement: messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        ([], "no cluster is configured"),
        (
            [Reason.DRAINED, Reason.OFFLINE, Reason.DRAINED],
            "no cluster is enabled and reachable (1 offline, 2 drained)",
        ),
        ([Reason.PROJECT, Reason.DRAINED], "no enabled cluster is available to this project"),
        ([Reason.TEMPLATE, Reason.PROJECT, Reason.OFFLINE], "no enabled cluster allows disk template drbd"),
        ([Reason.MEMORY, Reason.TEMPLATE, Reason.CPU, Reason.MEMORY], "(memory on 2, vCPUs on 1)"),
    ],
)
def test_explain_names_furthest_filter_when_nothing_fits(reasons, expected):
    message = placement.explain(reasons, req(vcpus=2, memory_mb=4096, disk_mb=20480, template="drbd"))

    assert message.startswith("No cluster can hold 2 vCPU, 4096 MiB RAM, 20480 MiB disk (drbd): ")
    assert expected in message


# --- placement: node packing (used by the benchmark) -----------------------------------------------------


def test_node_packer_fills_fullest_fitting_node_when_several_fit():
    nodes = [NodeCapacity(f"n{i}", mem_free_mb=m, disk_free_mb=10**6, vcpus_free=16) for i, m in enumerate([8, 3, 5])]
    packer = NodePacker([NodeCapacity(n.name, n.mem_free_mb * GIB, n.disk_free_mb, n.vcpus_free) for n in nodes])

    placed = [packer.place(req(memory_mb=2 * GIB)).name for _ in range(4)]

    assert placed == ["n1", "n2", "n2", "n0"]  # 3 GiB node, then 5 GiB (5 -> 3 -> 1), then 8 GiB


def test_node_packer_skips_node_when_other_resource_short():
    packer = NodePacker(
        [
            NodeCapacity("tight", mem_free_mb=2 * GIB, disk_free_mb=10**6, vcpus_free=1),
            NodeCapacity("roomy", mem_free_mb=8 * GIB, disk_free_mb=10**6, vcpus_free=8),
        ]
    )

    assert packer.place(req(vcpus=2, memory_mb=GIB)).name == "roomy"
    assert packer.place(req(vcpus=1, memory_mb=9 * GIB)) is None


# --- allocation against the database -------------------------------------------------------------------


def make_cluster(name: str, **fields: Any) -> Cluster:
    """A cluster row with cap()'s capacity, or `fields`."""
    values = {
        "kind": "ganeti",
        "endpoint": f"https://{name}.example.org:5080",
        "mem_total_mb": 64 * GIB,
        "mem_free_mb": 64 * GIB,
        "disk_total_mb": 400 * GIB,
        "disk_free_mb": 400 * GIB,
        "cpu_total": 32,
    }
    values.update(fields)
    projects = values.pop("projects", ())
    cluster = Cluster.objects.create(name=name, **values)
    cluster.projects.set(projects)
    return cluster


def choose(project=None, vcpus=1, memory_mb=GIB, disk_mb=10 * GIB, template="plain") -> Cluster:
    return allocation.choose_cluster(
        project=project, vcpus=vcpus, memory_mb=memory_mb, disk_mb=disk_mb, disk_template=template
    )


@pytest.mark.django_db
def test_choose_cluster_reserves_on_best_cluster_when_several_fit():
    make_cluster("busy", cpu_used=100)
    make_cluster("idle")

    chosen = choose(vcpus=2, memory_mb=4 * GIB, disk_mb=20 * GIB, template="drbd")

    assert chosen.name == "idle"
    idle = Cluster.objects.get(name="idle")
    assert (idle.reserved_cpu, idle.reserved_mem_mb, idle.reserved_disk_mb) == (2, 4 * GIB, 40 * GIB)
    assert (chosen.reserved_cpu, chosen.reserved_mem_mb) == (2, 4 * GIB)
    assert Cluster.objects.get(name="busy").reserved_mem_mb == 0


@pytest.mark.django_db
def test_choose_cluster_spreads_when_reservations_accumulate():
    make_cluster("a")
    make_cluster("b")

    names = [choose(vcpus=4, memory_mb=8 * GIB).name for _ in range(4)]

    assert sorted(names) == ["a", "a", "b", "b"]


@pytest.mark.django_db
def test_choose_cluster_skips_clusters_when_filtered():
    project, other = ProjectFactory(), ProjectFactory()
    make_cluster("a-drained", state="drained")
    make_cluster("b-offline", state="offline")
    make_cluster("c-unreachable", reachable=False)
    make_cluster("d-other-project", public=False, projects=[other])
    make_cluster("e-file-only", disk_templates=["file"])
    make_cluster("f-full", mem_free_mb=GIB // 2)
    make_cluster("g-cpu", cpu_total=1, cpu_used=4)
    make_cluster("h-busiest-but-fits", cpu_used=120, mem_free_mb=2 * GIB)

    assert choose(project=project).name == "h-busiest-but-fits"


@pytest.mark.django_db
def test_choose_cluster_uses_private_cluster_when_project_assigned():
    project = ProjectFactory()
    make_cluster("private", public=False, projects=[project])

    assert choose(project=project).name == "private"
    with pytest.raises(NoCapacity, match="available to this project"):
        choose(project=ProjectFactory())


@pytest.mark.django_db
def test_choose_cluster_treats_libvirt_like_ganeti_when_it_scores_best():
    make_cluster("ganeti-busy", cpu_used=64)
    make_cluster("libvirt-host", kind="libvirt", endpoint="unix:///run/nefos/host.sock")

    assert choose().name == "libvirt-host"


@pytest.mark.django_db
def test_choose_cluster_raises_no_capacity_with_reason_when_template_allowed_nowhere():
    make_cluster("a", disk_templates=["file", "diskless"])
    make_cluster("b", disk_templates=["plain"])
    make_cluster("c", state="drained")

    with pytest.raises(NoCapacity) as caught:
        choose(template="drbd")

    assert caught.value.status == 503
    assert "no enabled cluster allows disk template drbd" in caught.value.message
    assert caught.value.detail["clusters"] == {"a": "template", "b": "template", "c": "drained"}
    assert not Cluster.objects.filter(reserved_mem_mb__gt=0).exists()


@pytest.mark.django_db
def test_choose_cluster_raises_no_capacity_when_reservations_fill_cluster():
    make_cluster("small", mem_total_mb=4 * GIB, mem_free_mb=4 * GIB)

    for _ in range(4):
        choose()
    with pytest.raises(NoCapacity, match=r"not enough free capacity.*memory on 1"):
        choose()
    assert Cluster.objects.get(name="small").reserved_mem_mb == 4 * GIB


@pytest.mark.django_db
def test_choose_cluster_raises_no_capacity_when_no_cluster_exists():
    with pytest.raises(NoCapacity, match="no cluster is configured"):
        choose()


@pytest.mark.django_db
def test_choose_cluster_follows_cpu_ratio_setting_when_changed(settings):
    make_cluster("a", cpu_total=4)
    settings.BACKEND_CPU_RATIO = 1.0

    choose(vcpus=4)
    with pytest.raises(NoCapacity, match="vCPUs on 1"):
        choose(vcpus=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs", [{"vcpus": 0}, {"memory_mb": -1}, {"disk_mb": -5}, {"template": ""}, {"vcpus": True}, {"vcpus": 1.5}]
)
def test_choose_cluster_refused_when_request_invalid(kwargs):
    make_cluster("a")

    with pytest.raises(ValidationFailed):
        choose(**kwargs)


@pytest.mark.django_db
def test_release_reservation_returns_capacity_when_create_failed():
    make_cluster("a")
    cluster = choose(vcpus=2, memory_mb=2 * GIB, disk_mb=10 * GIB, template="drbd")

    allocation.release_reservation(cluster, vcpus=2, memory_mb=2 * GIB, disk_mb=10 * GIB, disk_template="drbd")

    row = Cluster.objects.get(name="a")
    assert (row.reserved_cpu, row.reserved_mem_mb, row.reserved_disk_mb) == (0, 0, 0)
    assert (row.mem_free_mb, row.cpu_used) == (64 * GIB, 0)
    assert (cluster.reserved_cpu, cluster.reserved_mem_mb) == (0, 0)


@pytest.mark.django_db
def test_release_reservation_never_below_zero_when_released_twice():
    cluster = make_cluster("a", reserved_cpu=1, reserved_mem_mb=GIB, reserved_disk_mb=GIB)

    allocation.release_reservation(cluster, vcpus=4, memory_mb=8 * GIB, disk_mb=80 * GIB)

    row = Cluster.objects.get(name="a")
    assert (row.reserved_cpu, row.reserved_mem_mb, row.reserved_disk_mb) == (0, 0, 0)


@pytest.mark.django_db
def test_release_reservation_moves_amounts_into_snapshot_when_consumed():
    make_cluster("a")
    cluster = choose(vcpus=2, memory_mb=2 * GIB, disk_mb=10 * GIB)

    allocation.release_reservation(cluster, vcpus=2, memory_mb=2 * GIB, disk_mb=10 * GIB, consumed=True)

    row = Cluster.objects.get(name="a")
    assert (row.reserved_cpu, row.reserved_mem_mb, row.reserved_disk_mb) == (0, 0, 0)
    assert (row.cpu_used, row.mem_free_mb, row.disk_free_mb) == (2, 62 * GIB, 390 * GIB)


@pytest.mark.django_db
def test_candidates_match_placement_rules_when_clusters_vary():
    rng = random.Random(4)
    project = ProjectFactory()
    for index in range(60):
        make_cluster(
            f"c{index:02d}",
            state=rng.choice(["enabled", "enabled", "drained", "offline"]),
            reachable=rng.random() > 0.1,
            public=rng.random() > 0.2,
            projects=[project] if rng.random() > 0.5 else [],
            mem_free_mb=rng.choice([0, GIB, 4 * GIB, 8 * GIB]),
            reserved_mem_mb=rng.choice([0, GIB, 2 * GIB]),
            disk_total_mb=rng.choice([0, 100 * GIB]),
            disk_free_mb=rng.choice([0, 15 * GIB, 30 * GIB]),
            reserved_disk_mb=rng.choice([0, 10 * GIB]),
            cpu_total=rng.choice([0, 1, 2]),
            cpu_used=rng.choice([0, 3, 6]),
            reserved_cpu=rng.choice([0, 1, 2]),
        )
    for request in [req(project=project.pk), req(vcpus=2, memory_mb=3 * GIB, template="drbd", project=project.pk)]:
        in_sql = {c.name for c in allocation.candidates(request, ratio=4.0)}
        in_python = {
            c.name
            for c in Cluster.objects.prefetch_related("projects")
            if placement.rejection(allocation.capacity_of(c), request) is None
        }
        assert in_sql == in_python and in_python


# --- concurrency (PostgreSQL) --------------------------------------------------------------------------

THREADS = 32


def on_postgres(test: Callable) -> Callable:
    """Mark a test as needing PostgreSQL with real transactions (skipped on SQLite)."""
    marks = [
        pytest.mark.postgres,
        pytest.mark.skipif(
            settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
            reason="needs PostgreSQL row locks (DATABASE_URL=postgres://...); SQLite serialises writers",
        ),
        pytest.mark.django_db(transaction=True),
    ]
    for mark in marks:
        test = mark(test)
    return test


def run_threads(work: Callable[[int], Any]) -> list[Any]:
    """`tests.concurrency.run_threads` with THREADS threads."""
    return concurrency.run_threads(work, THREADS)


def create_instance(name: str, *, vcpus: int = 1, memory_mb: int = GIB) -> str | None:
    """What a create does: choose a cluster and record the instance in one transaction."""
    try:
        with transaction.atomic():
            cluster = choose(vcpus=vcpus, memory_mb=memory_mb, disk_mb=GIB)
            Instance.objects.create(cluster=cluster, name=name, vcpus=vcpus, memory_mb=memory_mb)
    except NoCapacity:
        return None
    return cluster.name


@on_postgres
def test_concurrent_creates_fill_cluster_exactly_when_32_threads_race():
    make_cluster("small", mem_total_mb=10 * GIB, mem_free_mb=10 * GIB)

    placed = run_threads(lambda i: create_instance(f"vm{i}"))

    assert sum(1 for p in placed if p) == 10
    row = Cluster.objects.get(name="small")
    assert row.reserved_mem_mb == 10 * GIB == sum(Instance.objects.values_list("memory_mb", flat=True))


@on_postgres
def test_concurrent_creates_never_oversubscribe_vcpus_when_clusters_share_load():
    make_cluster("a", cpu_total=3)  # 12 vCPUs at 4.0 per core
    make_cluster("b", cpu_total=2)  # 8 vCPUs

    placed = run_threads(lambda i: create_instance(f"vm{i}", vcpus=1 + i % 2))

    rows = {c.name: c for c in Cluster.objects.all()}
    assert rows["a"].reserved_cpu <= 12 and rows["b"].reserved_cpu <= 8
    for name, row in rows.items():
        assert row.reserved_cpu == sum(Instance.objects.filter(cluster=row).values_list("vcpus", flat=True)), name
    # 48 vCPUs asked of 20: every cluster ends full, or with one vCPU that a 2-vCPU create could not use.
    assert rows["a"].reserved_cpu >= 11 and rows["b"].reserved_cpu >= 7
    assert sum(1 for p in placed if p) == Instance.objects.count()
