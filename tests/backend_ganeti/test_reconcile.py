"""Reconciliation: each kind of difference, dry runs, fixes through apply_event, the command and task."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backend_ganeti import signals, tasks
from backend_ganeti.drivers.types import DiskInfo, NicInfo, PowerState
from backend_ganeti.errors import ClusterOffline
from backend_ganeti.models import Cluster, Instance, Job
from backend_ganeti.services import operations, reconcile
from backend_ganeti.services.reconcile import reconcile_cluster
from portal.models import AuditEvent
from tests.backend_ganeti.backend_factories import make_cluster, seed_instance
from tests.backend_ganeti.fake_driver import install

S = Instance.Status


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: None)
    return install(monkeypatch)


@pytest.fixture
def cluster(db):
    return make_cluster("a")


@pytest.fixture
def fake(cloud):
    return cloud.cluster("a")


def rows() -> dict[str, tuple]:
    return {
        r.name: (r.status, r.primary_node, r.vcpus, r.fault, r.backend_time, r.project_id, list(r.nics))
        for r in Instance.objects.all()
    }


def test_reconcile_cluster_reports_nothing_when_in_sync(cluster, cloud):
    seed_instance(cloud, cluster, "vm1")
    report = reconcile_cluster(cluster, dry_run=False)
    assert report.differences == 0 and report.fixed == 0
    assert report.lines()[-1] == "  in sync"
    assert not AuditEvent.objects.filter(action="backend.reconcile_cluster").exists()


def test_reconcile_cluster_marks_error_when_instance_missing_in_cluster(cluster, cloud, fake):
    instance = seed_instance(cloud, cluster, "vm1")
    del fake.vms["vm1"]
    report = reconcile_cluster(cluster, dry_run=False)
    instance.refresh_from_db()
    assert report.missing_in_cluster == ["vm1"] and report.fixed == 1
    assert (instance.status, instance.fault) == (S.ERROR, "instance not found on cluster")
    again = reconcile_cluster(cluster, dry_run=False)
    assert again.missing_in_cluster == ["vm1"] and again.fixed == 0  # settled: no new change, no audit
    assert AuditEvent.objects.filter(action="backend.reconcile_cluster").count() == 1


def test_reconcile_cluster_keeps_create_failure_reason_when_failed_instance_missing(cluster, cloud, fake):
    instance = seed_instance(cloud, cluster, "vm1")
    Instance.objects.filter(pk=instance.pk).update(status=S.ERROR, fault="OpPrereqError: disk too small")
    del fake.vms["vm1"]
    report = reconcile_cluster(cluster, dry_run=False)
    instance.refresh_from_db()
    assert report.missing_in_cluster == ["vm1"] and report.fixed == 0
    assert instance.fault == "OpPrereqError: disk too small"


def test_reconcile_cluster_marks_deleted_when_missing_after_destroy_job(cluster, cloud, fake, member):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.destroy_instance(instance, actor=member)
    Job.objects.filter(pk=job.pk).update(status="error", error="lost")
    del fake.vms["vm1"]
    reconcile_cluster(cluster, dry_run=False)
    instance.refresh_from_db()
    assert instance.status == S.DELETED


def test_reconcile_cluster_records_orphan_row_when_instance_unknown_in_db(cluster, fake):
    fake.add_instance("stray", vcpus=2, memory_mb=768)
    report = reconcile_cluster(cluster, dry_run=False)
    stray = Instance.objects.get(name="stray")
    assert report.unknown_in_db == ["stray"]
    assert (stray.project, stray.owner_ref, stray.status, stray.vcpus, stray.memory_mb) == (None, "", S.RUNNING, 2, 768)
    assert stray.backend_time == fake.vms["stray"].mtime


def test_reconcile_cluster_keeps_deleted_history_when_unknown_reuses_name(cluster, cloud, fake):
    old = seed_instance(cloud, cluster, "vm1")
    Instance.objects.filter(pk=old.pk).update(status=S.DELETED)
    report = reconcile_cluster(cluster, dry_run=False)
    assert report.unknown_in_db == ["vm1"]
    assert Instance.objects.get(pk=old.pk).name == f"vm1~deleted-{old.pk}"
    assert Instance.objects.get(name="vm1").status == S.RUNNING


def test_reconcile_cluster_syncs_fields_when_changed_behind_portal(cluster, cloud, fake):
    instance = seed_instance(cloud, cluster, "vm1", secondary_nodes=("node2",))
    info = fake.vms["vm1"]
    fake.vms["vm1"] = replace(
        info,
        power=PowerState.STOPPED,
        admin_up=False,
        primary_node="node2",
        secondary_nodes=("node1",),
        vcpus=4,
        memory_mb=2048,
        disks=(*info.disks, DiskInfo(512, "file")),
        nics=(NicInfo("aa:bb:cc:dd:ee:ff", network="net1"),),
        mtime=info.mtime + 10,
    )
    report = reconcile_cluster(cluster, dry_run=False)
    drift = report.out_of_sync[0]
    assert set(drift.fields) == {
        "status",
        "admin_up",
        "primary_node",
        "secondary_nodes",
        "vcpus",
        "memory_mb",
        "disks",
        "nics",
    }
    assert drift.fields["status"] == (S.RUNNING, S.STOPPED)
    instance.refresh_from_db()
    assert (instance.status, instance.primary_node, instance.vcpus, len(instance.disks)) == (S.STOPPED, "node2", 4, 2)
    assert instance.nics[0]["mac"] == "aa:bb:cc:dd:ee:ff"
    assert instance.backend_time == info.mtime + 10
    assert reconcile_cluster(cluster, dry_run=True).differences == 0


def test_reconcile_cluster_sets_fault_when_cluster_reports_error_state(cluster, cloud, fake):
    instance = seed_instance(cloud, cluster, "vm1")
    fake.vms["vm1"] = replace(fake.vms["vm1"], power=PowerState.ERROR)
    reconcile_cluster(cluster, dry_run=False)
    instance.refresh_from_db()
    assert instance.status == S.ERROR and instance.fault == reconcile.FAULT_ERROR_STATE


def test_reconcile_cluster_changes_nothing_when_dry_run(cluster, cloud, fake):
    seed_instance(cloud, cluster, "gone")
    seed_instance(cloud, cluster, "drifted")
    del fake.vms["gone"]
    fake.vms["drifted"] = replace(fake.vms["drifted"], power=PowerState.STOPPED)
    fake.add_instance("stray")
    before = rows()
    report = reconcile_cluster(cluster, dry_run=True)
    assert (report.missing_in_cluster, report.unknown_in_db) == (["gone"], ["stray"])
    assert [d.name for d in report.out_of_sync] == ["drifted"]
    assert rows() == before and report.fixed == 0
    assert not AuditEvent.objects.filter(action="backend.reconcile_cluster").exists()


def test_reconcile_cluster_skips_instance_when_job_in_flight(cluster, cloud, fake, member):
    instance = seed_instance(cloud, cluster, "vm1")
    operations.reboot_instance(instance, actor=member)
    fake.vms["vm1"] = replace(fake.vms["vm1"], power=PowerState.STOPPED)
    report = reconcile_cluster(cluster, dry_run=False)
    assert report.in_flight == ["vm1"] and report.out_of_sync == []
    assert Instance.objects.get().status == S.RUNNING


def test_reconcile_cluster_fixes_through_apply_event_when_not_dry_run(
    cluster, cloud, fake, monkeypatch, django_capture_on_commit_callbacks
):
    seed_instance(cloud, cluster, "vm1")
    fake.vms["vm1"] = replace(fake.vms["vm1"], power=PowerState.STOPPED)
    fake.add_instance("stray")
    applied = []
    original = reconcile.apply_event
    monkeypatch.setattr(reconcile, "apply_event", lambda e: applied.append(e) or original(e))
    seen = []

    def receiver(sender, instance, event, **kwargs):
        seen.append((instance.name, event.source))

    signals.instance_changed.connect(receiver, sender=Instance)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = reconcile_cluster(cluster, dry_run=False, actor="admin")
    finally:
        signals.instance_changed.disconnect(receiver, sender=Instance)
    assert report.fixed == 2
    assert sorted((e.name, e.source, e.status) for e in applied) == [
        ("stray", "reconcile", S.RUNNING),
        ("vm1", "reconcile", S.STOPPED),
    ]
    assert sorted(seen) == [("stray", "reconcile"), ("vm1", "reconcile")]
    audit = AuditEvent.objects.get(action="backend.reconcile_cluster")
    assert audit.detail["fixed"] == 2 and audit.actor_name == "admin"


def test_reconcile_cluster_raises_offline_and_marks_cluster_when_unreachable(cluster, fake):
    fake.unreachable = True
    with pytest.raises(ClusterOffline):
        reconcile_cluster(cluster, dry_run=True)
    cluster.refresh_from_db()
    assert cluster.reachable is False


def test_reconcile_cluster_marks_cluster_reachable_when_it_answers_again(cluster, fake):
    Cluster.objects.filter(pk=cluster.pk).update(reachable=False, last_error="down")
    reconcile_cluster(cluster, dry_run=True)
    cluster.refresh_from_db()
    assert (cluster.reachable, cluster.last_error) == (True, "")


def test_reconcile_command_prints_report_when_dry_run(cluster, cloud, fake):
    seed_instance(cloud, cluster, "vm1")
    fake.vms["vm1"] = replace(fake.vms["vm1"], vcpus=8)
    out = StringIO()
    call_command("reconcile_cluster", "a", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Cluster a: 1 instances on the cluster, 1 in the database (dry run, nothing changed)" in text
    assert "vm1: vcpus 1 -> 8" in text
    assert Instance.objects.get().vcpus == 1


def test_reconcile_command_fixes_every_online_cluster_when_all(cluster, cloud, fake):
    make_cluster("off", state=Cluster.State.OFFLINE)
    seed_instance(cloud, cluster, "vm1")
    fake.vms["vm1"] = replace(fake.vms["vm1"], vcpus=8)
    out = StringIO()
    call_command("reconcile_cluster", "--all", stdout=out)
    assert "Cluster a:" in out.getvalue() and "Cluster off" not in out.getvalue()
    assert Instance.objects.get().vcpus == 8


def test_reconcile_command_fails_when_cluster_unknown(cluster):
    with pytest.raises(CommandError, match="Unknown cluster"):
        call_command("reconcile_cluster", "nope", stdout=StringIO())


def test_reconcile_clusters_task_skips_offline_and_unreachable_when_run(cluster, cloud):
    make_cluster("off", state=Cluster.State.OFFLINE)
    make_cluster("down")
    cloud.cluster("down").unreachable = True
    results = tasks.reconcile_clusters()
    assert set(results) == {"a", "down"}
    assert results["down"].startswith("skipped: Cluster down is unreachable")
    assert "0 missing in cluster" in results["a"]
