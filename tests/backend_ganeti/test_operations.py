"""Operations: state checks (409), offline clusters, the Job row, audit, and enqueueing on commit."""

from __future__ import annotations

import pytest

from backend_ganeti import tasks
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobState, NicSpec, PowerState
from backend_ganeti.errors import ClusterDrained, ClusterOffline
from backend_ganeti.models import Cluster, Instance, Job, Node
from backend_ganeti.services import devices, jobs, operations
from portal.errors import Conflict, InvalidState, NotFound, ValidationFailed
from portal.models import AuditEvent
from tests.backend_ganeti.backend_factories import make_cluster, seed_instance
from tests.backend_ganeti.fake_driver import Step, install

S = Instance.Status


@pytest.fixture
def cloud(monkeypatch):
    return install(monkeypatch)


@pytest.fixture
def enqueued(monkeypatch):
    """Job pks handed to Celery (recorded instead of sent)."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.run_job, "delay", sent.append)
    return sent


@pytest.fixture
def cluster(db):
    return make_cluster("a")


def spec(name: str = "vm1", **fields) -> CreateSpec:
    values = {"name": name, "vcpus": 2, "memory_mb": 1024, "disk_template": "file", "disks": (DiskSpec(2048),)}
    values.update(fields)
    return CreateSpec(**values)


def test_create_instance_records_building_row_job_and_audit_when_cluster_given(cluster, project, member, enqueued):
    instance = operations.create_instance(
        project=project, owner_ref="srv-1", spec=spec(), cluster=cluster, actor=member
    )
    job = Job.objects.get(instance=instance)
    assert (instance.status, instance.vcpus, instance.memory_mb, instance.project) == (S.BUILDING, 2, 1024, project)
    assert (job.operation, job.status, job.target, job.actor) == ("create", "submitting", "vm1", member.name)
    assert job.params["spec"]["disks"] == [{"size_mb": 2048, "template": "", "name": ""}]
    assert "reserved" not in job.params
    assert AuditEvent.objects.filter(action="backend.create_instance", target_id=str(instance.pk)).exists()


def test_create_instance_enqueues_only_after_commit_when_transaction_commits(
    cluster, project, member, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        instance = operations.create_instance(project=project, owner_ref="", spec=spec(), cluster=cluster, actor=member)
    assert enqueued == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert enqueued == [Job.objects.get(instance=instance).pk]


def test_create_instance_reserves_capacity_when_allocator_chooses(cluster, project, member, enqueued, cloud):
    instance = operations.create_instance(project=project, owner_ref="", spec=spec(), actor=member)
    job = Job.objects.get(instance=instance)
    cluster.refresh_from_db()
    assert instance.cluster == cluster
    assert job.params["reserved"] == {"vcpus": 2, "memory_mb": 1024, "disk_mb": 2048, "disk_template": "file"}
    assert (cluster.reserved_cpu, cluster.reserved_mem_mb) == (2, 1024)
    jobs.run_job(job.pk)
    cluster.refresh_from_db()
    assert (cluster.reserved_cpu, cluster.reserved_mem_mb, cluster.reserved_disk_mb) == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"state": Cluster.State.OFFLINE}, ClusterOffline),
        ({"reachable": False, "last_error": "connection refused"}, ClusterOffline),
        ({"state": Cluster.State.DRAINED}, ClusterDrained),
    ],
)
def test_create_instance_refused_when_cluster_cannot_take_it(project, member, enqueued, fields, error):
    cluster = make_cluster("a", **fields)
    with pytest.raises(error) as caught:
        operations.create_instance(project=project, owner_ref="", spec=spec(), cluster=cluster, actor=member)
    assert caught.value.status == 409
    assert not Instance.objects.exists() and not Job.objects.exists() and enqueued == []


def test_create_instance_conflicts_when_live_instance_has_the_name(cluster, project, member, enqueued, cloud):
    seed_instance(cloud, cluster, "vm1")
    with pytest.raises(Conflict):
        operations.create_instance(project=project, owner_ref="", spec=spec("vm1"), cluster=cluster, actor=member)


def test_create_instance_reuses_name_when_namesake_deleted(cluster, project, member, enqueued, cloud):
    old = seed_instance(cloud, cluster, "vm1")
    Instance.objects.filter(pk=old.pk).update(status=S.DELETED)
    new = operations.create_instance(project=project, owner_ref="", spec=spec("vm1"), cluster=cluster, actor=member)
    old.refresh_from_db()
    assert old.name == f"vm1~deleted-{old.pk}"
    assert new.name == "vm1" and new.backend_time == old.backend_time


def test_create_instance_rejects_spec_when_memory_zero(cluster, project, member, enqueued):
    with pytest.raises(ValidationFailed):
        operations.create_instance(project=project, owner_ref="", spec=spec(memory_mb=0), cluster=cluster, actor=member)


def test_start_instance_raises_invalid_state_409_when_running(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    with pytest.raises(InvalidState) as caught:
        operations.start_instance(instance, actor=member)
    assert caught.value.status == 409
    assert caught.value.message == "Cannot start instance vm1 while it is running."
    assert not Job.objects.exists()


def test_stop_instance_raises_not_found_when_instance_deleted(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    Instance.objects.filter(pk=instance.pk).update(status=S.DELETED)
    with pytest.raises(NotFound):
        operations.stop_instance(instance, actor=member)


@pytest.mark.parametrize("fields", [{"state": Cluster.State.OFFLINE}, {"reachable": False, "last_error": "timed out"}])
def test_stop_instance_raises_cluster_offline_when_cluster_unavailable(cluster, member, enqueued, cloud, fields):
    instance = seed_instance(cloud, cluster, "vm1")
    Cluster.objects.filter(pk=cluster.pk).update(**fields)
    with pytest.raises(ClusterOffline):
        operations.stop_instance(instance, actor=member)
    assert enqueued == []


def test_reboot_instance_raises_invalid_state_when_job_in_progress(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    first = operations.reboot_instance(instance, actor=member)
    with pytest.raises(InvalidState) as caught:
        operations.reboot_instance(instance, actor=member)
    assert f"job {first.pk}" in caught.value.message


def test_destroy_instance_accepted_when_other_job_in_progress(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    operations.reboot_instance(instance, actor=member)
    job = operations.destroy_instance(instance, actor=member)
    assert job.operation == "destroy"
    with pytest.raises(InvalidState):
        operations.destroy_instance(instance, actor=member)


def test_destroy_instance_refused_when_create_not_yet_submitted(cluster, project, member, enqueued):
    instance = operations.create_instance(project=project, owner_ref="", spec=spec(), cluster=cluster, actor=member)
    with pytest.raises(InvalidState):
        operations.destroy_instance(instance, actor=member)


def test_stop_instance_job_carries_timeout_and_audit_when_accepted(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.stop_instance(instance, timeout=30, actor=member)
    assert job.params == {"timeout": 30}
    assert enqueued == []  # the test transaction has not committed
    event = AuditEvent.objects.get(action="backend.stop_instance")
    assert event.detail["job"] == job.pk and event.actor_name == member.name


def test_remove_disk_raises_validation_when_index_out_of_range(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    with pytest.raises(ValidationFailed):
        devices.remove_disk(instance, 3, actor=member)


def test_change_disk_template_raises_invalid_state_when_running(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    with pytest.raises(InvalidState, match="Cannot change the disk template of instance vm1 while it is running"):
        operations.change_disk_template(instance, "diskless", actor=member)


def test_evacuate_node_raises_validation_when_mode_unknown(cluster, member, enqueued):
    node = Node.objects.create(cluster=cluster, name="node1")
    with pytest.raises(ValidationFailed):
        operations.evacuate_node(node, mode="sideways", actor=member)


# --- each operation end to end through the watcher ------------------------------------------------

STOPPED = {"power": PowerState.STOPPED, "admin_up": False}


@pytest.mark.parametrize(
    ("call", "seed", "check"),
    [
        (lambda i, a: operations.start_instance(i, actor=a), STOPPED, lambda r: r.status == S.RUNNING and r.admin_up),
        (lambda i, a: operations.stop_instance(i, actor=a), {}, lambda r: r.status == S.STOPPED and not r.admin_up),
        (lambda i, a: operations.reboot_instance(i, hard=True, actor=a), {}, lambda r: r.status == S.RUNNING),
        (lambda i, a: operations.destroy_instance(i, actor=a), {}, lambda r: r.status == S.DELETED),
        (
            lambda i, a: operations.resize_instance(i, vcpus=4, memory_mb=2048, actor=a),
            {},
            lambda r: (r.vcpus, r.memory_mb) == (4, 2048),
        ),
        (lambda i, a: devices.add_disk(i, DiskSpec(512), actor=a), {}, lambda r: len(r.disks) == 2),
        (lambda i, a: devices.grow_disk(i, 0, 1024, actor=a), {}, lambda r: r.disks[0]["size_mb"] == 2048),
        (lambda i, a: devices.add_nic(i, NicSpec(network="net1"), actor=a), {}, lambda r: len(r.nics) == 2),
        (
            lambda i, a: operations.migrate_instance(i, actor=a),
            {"secondary_nodes": ("node2",)},
            lambda r: (r.primary_node, r.secondary_nodes) == ("node2", ["node1"]),
        ),
        (
            lambda i, a: operations.failover_instance(i, target_node="node2", actor=a),
            {},
            lambda r: r.primary_node == "node2",
        ),
        (
            lambda i, a: operations.change_disk_template(i, "diskless", actor=a),
            STOPPED,
            lambda r: r.disk_template == "diskless",
        ),
    ],
)
def test_operation_reaches_cluster_and_row_when_job_runs(cluster, member, enqueued, cloud, call, seed, check):
    instance = seed_instance(cloud, cluster, "vm1", **seed)
    job = call(instance, member)
    assert jobs.run_job(job.pk) == "success"
    instance.refresh_from_db()
    assert check(instance), instance.__dict__
    assert cloud.cluster("a").count(job.operation) == 1


def test_remove_nic_leaves_no_nic_when_job_succeeds(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = devices.remove_nic(instance, 0, actor=member)
    jobs.run_job(job.pk)
    instance.refresh_from_db()
    assert instance.nics == []


def test_set_node_drained_marks_node_when_job_succeeds(cluster, member, enqueued, cloud):
    node = Node.objects.create(cluster=cluster, name="node1", role="R")
    job = operations.set_node_drained(node, True, actor=member)
    assert jobs.run_job(job.pk) == "success"
    node.refresh_from_db()
    assert (node.drained, node.role) == (True, "D")
    assert "node1" in cloud.cluster("a").drained


def test_evacuate_node_moves_instance_rows_when_job_succeeds(cluster, member, enqueued, cloud):
    node = Node.objects.create(cluster=cluster, name="node1")
    seed_instance(cloud, cluster, "vm1")
    job = operations.evacuate_node(node, actor=member)
    jobs.run_job(job.pk)
    assert Instance.objects.get(name="vm1").primary_node == "node2"


# --- cancel -----------------------------------------------------------------------------------------


def test_cancel_job_cancels_at_once_when_job_never_reached_cluster(cluster, project, member, enqueued, cloud):
    instance = operations.create_instance(project=project, owner_ref="", spec=spec(), cluster=cluster, actor=member)
    job = operations.cancel_job(Job.objects.get(instance=instance), actor=member)
    instance.refresh_from_db()
    assert job.status == "canceled"
    assert (instance.status, instance.fault) == (S.ERROR, "canceled before it reached the cluster")
    assert jobs.run_job(job.pk) == "skipped"
    assert cloud.cluster("a").count("create") == 0


def test_cancel_job_asks_cluster_when_job_submitted(cluster, member, enqueued, cloud, monkeypatch):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.reboot_instance(instance, actor=member)
    jobs.submit_job(jobs.take_lease(job.pk))
    cancels: list[int] = []
    monkeypatch.setattr(tasks.cancel_job, "delay", cancels.append)
    job = operations.cancel_job(job, actor=member)
    assert job.status == "canceling"
    assert AuditEvent.objects.filter(action="backend.cancel_job").count() == 1


def test_cancel_on_cluster_cancels_queued_job_when_asked(cluster, member, enqueued, cloud):
    cloud.cluster("a").script(
        Step(JobState.QUEUED), Step(JobState.QUEUED), Step(JobState.QUEUED), Step(JobState.SUCCESS)
    )
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.reboot_instance(instance, actor=member)
    leased = jobs.take_lease(job.pk)
    jobs.submit_job(leased)
    assert jobs.cancel_on_cluster(job.pk) is True
    jobs.follow_job(leased)
    job.refresh_from_db()
    instance.refresh_from_db()
    assert job.status == "canceled"
    assert instance.status == S.RUNNING and instance.fault == ""


def test_cancel_job_raises_invalid_state_when_job_finished(cluster, member, enqueued, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.reboot_instance(instance, actor=member)
    jobs.run_job(job.pk)
    with pytest.raises(InvalidState):
        operations.cancel_job(job, actor=member)


# --- console ----------------------------------------------------------------------------------------


def test_console_info_returns_vnc_endpoint_when_instance_running(cluster, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    console = operations.console_info(instance)
    assert (console.kind, console.host) == ("vnc", "node1")
    assert "console-secret" not in repr(console)


def test_console_info_raises_cluster_offline_when_cluster_unreachable(cluster, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    cloud.cluster("a").unreachable = True
    with pytest.raises(ClusterOffline):
        operations.console_info(instance)
    cluster.refresh_from_db()
    assert cluster.reachable is False and "connection refused" in cluster.last_error


def test_console_info_raises_invalid_state_when_instance_stopped(cluster, cloud):
    instance = seed_instance(cloud, cluster, "vm1", **STOPPED)
    with pytest.raises(InvalidState):
        operations.console_info(instance)
