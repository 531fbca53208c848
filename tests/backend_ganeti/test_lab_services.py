"""backend_ganeti's services end to end against the Ganeti lab's real clusters A (2 nodes) and B (1 node).

Everything goes through the portal: clusters registered with `clusters.add_cluster`, instances
created and operated on with `services.operations`, jobs run by the Celery task's body
(`tasks.run_job`: submit, long-poll, events), reconciliation with `reconcile_cluster`. The lab
is changed behind the portal's back with `ganeti_lab.py exec` (gnt-* inside a node) and made
unreachable with `ganeti_lab.py pause-rapi`. Skipped unless NEFOS_LAB_RAPI names a running lab;
instances are removed through the driver after each test, also when it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend_ganeti.errors import ClusterOffline
from backend_ganeti.models import Cluster, Instance, Job, Node
from backend_ganeti.rapi import NotFound
from backend_ganeti.services import jobs, operations
from backend_ganeti.services.clusters import refresh_cluster
from backend_ganeti.services.reconcile import reconcile_cluster
from portal.models import AuditEvent

pytestmark = [pytest.mark.ganeti, pytest.mark.django_db(transaction=True)]
pytest_plugins = ["tests.backend_ganeti.lab_services"]

S = Instance.Status


def on_cluster(lab_portal, key: str, name: str):
    """What cluster `key` says about instance `name` (None when it has none)."""
    driver = lab_portal.driver(key)
    try:
        return driver.instance(name)
    except NotFound:
        return None
    finally:
        driver.close()


def create(lab_portal, project, member, spec, key: str | None) -> Instance:
    """Create through the services (the allocator chooses when `key` is None), run the job, the row."""
    cluster = lab_portal.clusters[key] if key else None
    row = operations.create_instance(project=project, owner_ref="srv", spec=spec, cluster=cluster, actor=member)
    assert lab_portal.run_jobs() == ["success"]
    return Instance.objects.get(pk=row.pk)


def test_lifecycle_and_moves_land_in_db_when_driven_through_services(lab_portal, project, member):
    a1, a2 = lab_portal.nodes("a")
    name = lab_portal.name("life")
    row = create(lab_portal, project, member, lab_portal.spec(name, primary_node=a1), "a")
    assert (row.status, row.admin_up, row.primary_node, row.fault) == (S.RUNNING, True, a1, "")
    assert row.nics and row.nics[0]["mac"] and row.backend_time > 0

    def step(job: Job, status: str, **expected) -> Instance:
        job = lab_portal.finish(job)
        assert job.status == "success", job.error
        assert job.job_id and job.ended_at and job.lease_until is None
        fresh = Instance.objects.get(pk=row.pk)
        assert fresh.status == status
        for key, value in expected.items():
            assert getattr(fresh, key) == value, key
        return fresh

    step(operations.stop_instance(row, timeout=10, actor=member), S.STOPPED, admin_up=False)
    assert on_cluster(lab_portal, "a", name).admin_up is False
    step(operations.start_instance(row, actor=member), S.RUNNING, admin_up=True)
    step(operations.reboot_instance(row, actor=member), S.RUNNING)
    step(operations.reboot_instance(row, hard=True, actor=member), S.RUNNING)
    # Live migration and failover: the new primary node comes back through the job's final event.
    step(operations.migrate_instance(row, target_node=a2, live=True, actor=member), S.RUNNING, primary_node=a2)
    assert on_cluster(lab_portal, "a", name).primary_node == a2
    step(operations.failover_instance(row, target_node=a1, actor=member), S.RUNNING, primary_node=a1)
    assert operations.console_info(row).kind == "msg"  # the fake hypervisor has no console
    step(operations.destroy_instance(row, actor=member), S.DELETED)
    assert on_cluster(lab_portal, "a", name) is None
    operations_done = Job.objects.filter(instance=row).values_list("operation", flat=True)
    assert sorted(operations_done) == sorted(
        ["create", "stop", "start", "reboot", "reboot", "migrate", "failover", "destroy"]
    )


def test_creates_spread_over_both_clusters_when_allocator_chooses(lab_portal, project, member):
    names = [lab_portal.name("alloc") for _ in range(4)]
    rows = [
        operations.create_instance(project=project, owner_ref=f"srv-{i}", spec=lab_portal.spec(name), actor=member)
        for i, name in enumerate(names)
    ]
    assert {row.cluster.name for row in rows} == {"lab-a", "lab-b"}
    assert sum(Cluster.objects.values_list("reserved_cpu", flat=True)) == 4  # held until the jobs end
    assert lab_portal.run_jobs() == ["success"] * 4
    for cluster in Cluster.objects.all():
        assert (cluster.reserved_cpu, cluster.reserved_mem_mb, cluster.reserved_disk_mb) == (0, 0, 0), cluster.name
    for row in Instance.objects.filter(pk__in=[r.pk for r in rows]).select_related("cluster"):
        key = row.cluster.name.removeprefix("lab-")
        info = on_cluster(lab_portal, key, row.name)
        assert row.status == S.RUNNING and info is not None
        assert row.primary_node == info.primary_node and row.primary_node in lab_portal.nodes(key)


def test_reconcile_reports_then_fixes_drift_when_cluster_changed_behind_back(lab_portal, project, member):
    b1 = lab_portal.nodes("b")[0]
    name = lab_portal.name("drift")
    row = create(lab_portal, project, member, lab_portal.spec(name), "b")
    ghost = lab_portal.name("ghost")
    lab_portal.node_exec(b1, "gnt-instance", "shutdown", "--timeout=0", name)
    lab_portal.node_exec(
        b1, "gnt-instance", "add", "-t", "diskless", "-o", "noop", "-n", b1, "-B", "vcpus=1,memory=128",
        "--no-ip-check", "--no-name-check", "--no-start", ghost,
    )  # fmt: skip
    cluster = lab_portal.clusters["b"]

    report = reconcile_cluster(cluster, dry_run=True)
    drift = {d.name: d.fields for d in report.out_of_sync}
    assert drift[name]["status"] == (S.RUNNING, S.STOPPED) and drift[name]["admin_up"] == (True, False)
    assert ghost in report.unknown_in_db and report.fixed == 0
    row.refresh_from_db()
    assert (row.status, row.admin_up) == (S.RUNNING, True)
    assert not Instance.objects.filter(name=ghost).exists()

    report = reconcile_cluster(cluster, dry_run=False)
    assert report.fixed >= 2
    row.refresh_from_db()
    assert (row.status, row.admin_up, row.project_id) == (S.STOPPED, False, project.pk)
    orphan = Instance.objects.get(cluster=cluster, name=ghost)
    assert (orphan.status, orphan.project, orphan.owner_ref, orphan.primary_node) == (S.STOPPED, None, "", b1)
    assert AuditEvent.objects.filter(action="backend.reconcile_cluster", target_id=str(cluster.pk)).count() == 1
    assert reconcile_cluster(cluster, dry_run=True).differences == 0


def test_unreachable_cluster_refuses_and_leaves_db_consistent_when_rapi_stops(lab_portal, project, member):
    a1 = lab_portal.nodes("a")[0]
    cluster = lab_portal.clusters["a"]
    abandoned, delayed = lab_portal.name("gone"), lab_portal.name("late")
    lab_portal.pause_rapi("a")
    # The portal still believes A answers: the creates are recorded, their jobs cannot be sent.
    rows = [
        operations.create_instance(
            project=project, owner_ref="srv", spec=lab_portal.spec(name, primary_node=a1), cluster=cluster, actor=member
        )
        for name in (abandoned, delayed)
    ]
    first, second = (Job.objects.get(instance=row) for row in rows)
    assert lab_portal.run_jobs() == ["submitting", "submitting"]
    cluster.refresh_from_db()
    assert cluster.reachable is False and cluster.last_error
    for job in (first, second):
        job.refresh_from_db()
        assert (job.status, job.job_id, job.lease_until, job.params["submit_attempts"]) == ("submitting", "", None, 1)
    # One job is given up after the last attempt: the row ends in error with the reason, not building.
    for _ in range(jobs.MAX_SUBMIT_ATTEMPTS - 1):
        jobs.run_job(first.pk)
    first.refresh_from_db()
    gone = Instance.objects.get(pk=rows[0].pk)
    assert first.status == "error" and f"after {jobs.MAX_SUBMIT_ATTEMPTS} attempts" in first.error
    assert (gone.status, gone.fault) == (S.ERROR, first.error)

    with pytest.raises(ClusterOffline) as refused:
        refresh_cluster(cluster)
    assert "lab-a is unreachable" in refused.value.message
    assert cluster.password not in refused.value.message
    job_count = Job.objects.count()
    with pytest.raises(ClusterOffline, match="unreachable"):
        operations.destroy_instance(gone, actor=member)
    with pytest.raises(ClusterOffline, match="unreachable"):
        reconcile_cluster(cluster, dry_run=True)
    assert Job.objects.count() == job_count
    # The allocator skips the unreachable cluster.
    elsewhere = create(lab_portal, project, member, lab_portal.spec(lab_portal.name("else")), None)
    assert (elsewhere.cluster.name, elsewhere.status) == ("lab-b", S.RUNNING)

    lab_portal.resume_rapi("a")
    refresh_cluster(cluster)
    cluster.refresh_from_db()
    assert (cluster.reachable, cluster.last_error) == (True, "")
    assert on_cluster(lab_portal, "a", abandoned) is None
    # The waiting job is picked up again (as the beat's resume_jobs does) and runs exactly once.
    assert jobs.run_job(second.pk) == "success"
    late = Instance.objects.get(pk=rows[1].pk)
    assert (late.status, late.primary_node) == (S.RUNNING, a1)
    driver = lab_portal.driver("a")
    try:
        assert [info.name for info in driver.instances()].count(delayed) == 1
    finally:
        driver.close()
    report = reconcile_cluster(cluster, dry_run=True)
    assert (report.missing_in_cluster, report.out_of_sync) == ([abandoned], [])


def test_kvm_instance_runs_qemu_tcg_when_created_through_services(lab_portal, project, member):
    a1 = lab_portal.nodes("a")[0]
    name = lab_portal.name("kvm")
    row = create(lab_portal, project, member, lab_portal.spec(name, primary_node=a1, hypervisor="kvm"), "a")
    assert (row.status, row.primary_node) == (S.RUNNING, a1)
    # A real QEMU process, started by Ganeti inside node a1, running on TCG (no /dev/kvm use).
    pid = int(lab_portal.node_exec(a1, "cat", f"/run/ganeti/kvm-hypervisor/pid/{name}").strip())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert argv[0].endswith(b"qemu-system-x86_64") and name.encode() in argv
    monitor = f"/run/ganeti/kvm-hypervisor/ctrl/{name}.monitor"
    answer = lab_portal.node_exec(a1, "sh", "-c", f"echo 'info kvm' | socat - UNIX-CONNECT:{monitor}")
    assert "kvm support: disabled" in answer
    # Ganeti's kvm default: the serial console, reached with ssh on the primary node.
    console = operations.console_info(row)
    assert (console.kind, console.host) == ("ssh", a1) and name in " ".join(console.extra["command"])

    job = lab_portal.finish(operations.stop_instance(row, timeout=5, actor=member))
    assert job.status == "success", job.error
    assert Instance.objects.get(pk=row.pk).status == S.STOPPED
    assert not Path(f"/proc/{pid}").exists()
    job = lab_portal.finish(operations.destroy_instance(row, actor=member))
    assert job.status == "success" and Instance.objects.get(pk=row.pk).status == S.DELETED


def test_evacuation_follows_child_jobs_and_moves_rows_when_node_evacuated(lab_portal, project, member):
    a1, a2 = lab_portal.nodes("a")
    name = lab_portal.name("evac")
    row = create(lab_portal, project, member, lab_portal.spec(name, primary_node=a2), "a")
    node = Node.objects.get(cluster=lab_portal.clusters["a"], name=a2)
    job = lab_portal.finish(operations.evacuate_node(node, mode="primary-only", actor=member))
    assert job.status == "success", job.error
    (child,) = Job.objects.filter(params__parent=job.pk)
    assert job.params["children"] == [child.job_id] and int(child.job_id) > int(job.job_id)
    assert (child.target, child.instance_id, child.status) == (name, row.pk, "success")
    assert child.operation in ("migrate", "failover") and child.params["source_node"] == a2
    assert child.ended_at <= job.ended_at  # the evacuation ended after its child
    row.refresh_from_db()
    assert (row.primary_node, row.status) == (a1, S.RUNNING)
    assert on_cluster(lab_portal, "a", name).primary_node == a1
