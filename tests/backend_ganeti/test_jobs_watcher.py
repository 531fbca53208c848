"""The job watcher against scripted jobs: progress, duplicates, reordering, failures, unreachability, child jobs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from backend_ganeti import signals, tasks
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobLogEntry, JobState, PowerState
from backend_ganeti.models import Cluster, Instance, Job, Node
from backend_ganeti.rapi.errors import BadRequest, ServiceUnavailable
from backend_ganeti.services import jobs, operations, outcomes
from backend_ganeti.services.outcomes import Outcome
from tests.backend_ganeti.backend_factories import make_cluster, seed_instance
from tests.backend_ganeti.fake_driver import FakeCluster, Step, install

S = Instance.Status
Q, R, OK, ERR = JobState.QUEUED, JobState.RUNNING, JobState.SUCCESS, JobState.ERROR


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


@pytest.fixture
def changes():
    """Every instance_changed signal: (row status after commit, event progress, event source)."""
    seen: list[tuple] = []

    def receiver(sender, instance, event, **kwargs):
        seen.append((instance.status, event.progress, event.source))

    signals.instance_changed.connect(receiver, sender=Instance)
    yield seen
    signals.instance_changed.disconnect(receiver, sender=Instance)


def create(cluster, project, member, name="vm1", **fields) -> Instance:
    values = {"name": name, "vcpus": 1, "memory_mb": 512, "disk_template": "file", "disks": (DiskSpec(1024),)}
    values.update(fields)
    return operations.create_instance(
        project=project, owner_ref="srv", spec=CreateSpec(**values), cluster=cluster, actor=member
    )


def job_of(instance: Instance) -> Job:
    return Job.objects.filter(instance=instance).latest("created_at")


def entry(serial: int, message: str) -> JobLogEntry:
    return JobLogEntry(serial, 1_700_000_000.0 + serial, "message", message)


def test_run_job_records_log_progress_and_running_instance_when_create_succeeds(
    cluster, project, member, fake, changes, django_capture_on_commit_callbacks
):
    fake.script(
        Step(Q),
        Step(R, ("creating disks",)),
        Step(R, (" - INFO: - device disk/0: 10.00% done",), progress=10),
        Step(R, (" - INFO: - device disk/0: 45.00% done",), progress=45),
        Step(OK, ("starting instance",)),
    )
    instance = create(cluster, project, member)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.run_job(job_of(instance).pk) == "success"
    job, instance = job_of(instance), Instance.objects.get(pk=instance.pk)
    assert [line["serial"] for line in job.log] == [1, 2, 3, 4]
    assert job.log[-1]["message"] == "starting instance"
    assert (job.progress, job.job_id, job.lease_until) == (100, "1", None)
    assert job.started_at is not None and job.ended_at is not None
    assert (instance.status, instance.progress, instance.fault, instance.admin_up) == (S.RUNNING, None, "", True)
    assert instance.nics and instance.nics[0]["mac"].startswith("aa:")
    assert [c[1] for c in changes] == [10, 45, None]
    assert changes[-1][0] == S.RUNNING


def test_follow_job_keeps_log_once_when_cluster_repeats_and_reorders_lines(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    fake.script(
        Step(R, log=(entry(2, "two"), entry(1, "one"))),
        Step(R, log=(entry(1, "one"), entry(2, "two"))),  # a duplicate answer
        Step(R, log=(entry(4, "four"), entry(3, "three"), entry(2, "two"))),  # reordered, overlapping
        Step(R, log=(entry(3, "three"),)),  # a late, older view
        Step(OK, log=(entry(5, "five"),)),
    )
    job = operations.reboot_instance(instance, actor=member)
    jobs.run_job(job.pk)
    job.refresh_from_db()
    assert [(line["serial"], line["message"]) for line in job.log] == [
        (1, "one"),
        (2, "two"),
        (3, "three"),
        (4, "four"),
        (5, "five"),
    ]
    assert job.last_log_serial == 5


def test_follow_job_keeps_newest_lines_when_log_exceeds_limit(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    fake.script(Step(R, tuple(f"line {i}" for i in range(250))), Step(OK))
    job = operations.reboot_instance(instance, actor=member)
    jobs.run_job(job.pk)
    job.refresh_from_db()
    assert len(job.log) == outcomes.LOG_LIMIT
    assert (job.log[0]["serial"], job.log[-1]["serial"]) == (51, 250)


def test_run_job_marks_create_error_with_cluster_message_when_job_fails(cluster, project, member, fake, monkeypatch):
    message = "OpPrereqError: Disk size 512 is below the instance policy minimum 1024"
    fake.script(Step(Q), Step(R, ("creating disks",)), Step(ERR, ("failed",), error=message))
    released: list[dict] = []
    monkeypatch.setattr(outcomes.allocation, "release_reservation", lambda c, **kw: released.append(kw))
    instance = operations.create_instance(
        project=project,
        owner_ref="",
        spec=CreateSpec("vm1", 1, 512, "file", (DiskSpec(512),)),
        actor=member,
    )
    assert jobs.run_job(job_of(instance).pk) == "error"
    job, instance = job_of(instance), Instance.objects.get(pk=instance.pk)
    assert job.error == message
    assert (instance.status, instance.fault) == (S.ERROR, message)
    assert "vm1" not in fake.vms  # the cluster rolled the create back
    assert released == [{"vcpus": 1, "memory_mb": 512, "disk_mb": 512, "disk_template": "file", "consumed": False}]


def test_run_job_keeps_instance_state_and_sets_fault_when_start_fails(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1", power=PowerState.STOPPED, admin_up=False)
    fake.script(Step(Q), Step(ERR, error="OpExecError: Could not start instance: not enough memory on node1"))
    job = operations.start_instance(instance, actor=member)
    assert jobs.run_job(job.pk) == "error"
    instance.refresh_from_db()
    assert instance.status == S.STOPPED
    assert instance.fault == "OpExecError: Could not start instance: not enough memory on node1"


def test_run_job_fails_with_cluster_reason_when_submit_rejected(cluster, project, member, fake):
    fake.fail_next_submit(BadRequest(400, "Invalid disk template 'drbd'", cluster="a"))
    instance = create(cluster, project, member)
    assert jobs.run_job(job_of(instance).pk) == "error"
    job, instance = job_of(instance), Instance.objects.get(pk=instance.pk)
    assert "Invalid disk template 'drbd'" in job.error and job.job_id == ""
    assert instance.status == S.ERROR and "Invalid disk template" in instance.fault


def test_run_job_marks_deleted_when_destroy_finds_no_instance(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    del fake.vms["vm1"]
    job = operations.destroy_instance(instance, actor=member)
    assert jobs.run_job(job.pk) == "success"
    instance.refresh_from_db()
    assert instance.status == S.DELETED
    assert fake.count("destroy") == 1


def test_run_job_releases_job_and_marks_cluster_when_unreachable_during_follow(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    fake.script(Step(Q), Step(R), Step(R), Step(OK))
    fake.unreachable_on_wait = 2
    job = operations.reboot_instance(instance, actor=member)
    assert jobs.run_job(job.pk) == "queued"
    job.refresh_from_db()
    cluster.refresh_from_db()
    assert (job.lease_until, job.job_id, job.finished) == (None, "1", False)
    assert cluster.reachable is False and "timed out" in cluster.last_error
    assert job.pk not in jobs.stale_job_ids()  # within the grace period
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert jobs.stale_job_ids() == [job.pk]
    assert jobs.run_job(job.pk) == "success"
    cluster.refresh_from_db()
    assert cluster.reachable is True and fake.count("reboot") == 1


def test_run_job_retries_submission_then_fails_when_cluster_stays_unreachable(cluster, project, member, fake):
    instance = create(cluster, project, member)
    fake.unreachable = True
    job = job_of(instance)
    for attempt in range(1, jobs.MAX_SUBMIT_ATTEMPTS):
        assert jobs.run_job(job.pk) == "submitting"
        job.refresh_from_db()
        assert (job.params["submit_attempts"], job.lease_until) == (attempt, None)
    assert jobs.run_job(job.pk) == "error"
    job.refresh_from_db()
    instance.refresh_from_db()
    assert "cluster unavailable after 5 attempts" in job.error
    assert instance.status == S.ERROR and Cluster.objects.get().reachable is False


def test_run_job_submits_once_when_cluster_comes_back(cluster, project, member, fake):
    instance = create(cluster, project, member)
    fake.unreachable = True
    jobs.run_job(job_of(instance).pk)
    fake.unreachable = False
    assert jobs.run_job(job_of(instance).pk) == "success"
    assert fake.count("create") == 1 and Instance.objects.get().status == S.RUNNING


def test_follow_job_gives_job_back_when_master_busy(cluster, member, fake, cloud, monkeypatch):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.reboot_instance(instance, actor=member)
    leased = jobs.take_lease(job.pk)
    jobs.submit_job(leased)

    def busy(*args, **kwargs):
        raise ServiceUnavailable(503, "master is failing over", cluster="a")

    monkeypatch.setattr(fake, "wait_job", busy)
    jobs.follow_job(leased)
    job.refresh_from_db()
    assert (job.status, job.lease_until) == ("queued", None)
    assert Cluster.objects.get().reachable is True


def test_run_job_skips_when_another_watcher_holds_lease(cluster, member, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.reboot_instance(instance, actor=member)
    assert jobs.take_lease(job.pk) is not None
    assert jobs.run_job(job.pk) == "skipped"
    assert cloud.cluster("a").count("reboot") == 0


def test_follow_job_stops_without_finishing_when_lease_taken_over(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    fake.script(Step(Q), Step(R), Step(R), Step(OK))
    job = operations.reboot_instance(instance, actor=member)
    leased = jobs.take_lease(job.pk)
    jobs.submit_job(leased)
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() + timedelta(minutes=5))  # someone else
    jobs.follow_job(leased)
    job.refresh_from_db()
    assert not job.finished and fake.waits == 1


def test_follow_job_judges_by_instance_when_cluster_forgot_job(cluster, member, fake, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.resize_instance(instance, vcpus=3, memory_mb=512, actor=member)
    leased = jobs.take_lease(job.pk)
    jobs.submit_job(leased)
    fake.vms["vm1"] = replace(fake.vms["vm1"], vcpus=3)
    fake.jobs.clear()  # archived
    jobs.follow_job(leased)
    job.refresh_from_db()
    instance.refresh_from_db()
    assert job.status == "success" and "no longer knows job" in job.log[-1]["message"]
    assert instance.vcpus == 3


def test_finish_job_applies_outcome_once_when_called_twice(cluster, member, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.destroy_instance(instance, actor=member)
    outcome = Outcome(JobState.SUCCESS, cluster_time=2_000_000_000.0)
    assert outcomes.finish_job(job, outcome) is True
    Instance.objects.filter(pk=instance.pk).update(status=S.RUNNING)  # something newer happened
    Instance.objects.filter(pk=instance.pk).update(backend_time=2_000_000_001.0)
    assert outcomes.finish_job(Job.objects.get(pk=job.pk), outcome) is False
    assert Instance.objects.get(pk=instance.pk).status == S.RUNNING


def test_stale_job_ids_lists_expired_and_old_unleased_jobs_when_resuming(cluster, member, cloud):
    jobs_by_kind = {}
    for name in ("fresh", "old", "expired", "live", "done"):
        jobs_by_kind[name] = operations.reboot_instance(seed_instance(cloud, cluster, name), actor=member)
    now = timezone.now()
    Job.objects.filter(pk=jobs_by_kind["old"].pk).update(created_at=now - timedelta(minutes=2))
    Job.objects.filter(pk=jobs_by_kind["expired"].pk).update(lease_until=now - timedelta(seconds=1))
    Job.objects.filter(pk=jobs_by_kind["live"].pk).update(lease_until=now + timedelta(minutes=1))
    Job.objects.filter(pk=jobs_by_kind["done"].pk).update(status="success", created_at=now - timedelta(hours=1))
    assert sorted(jobs.stale_job_ids()) == sorted([jobs_by_kind["old"].pk, jobs_by_kind["expired"].pk])


def test_resume_jobs_task_enqueues_stale_jobs_when_run(cluster, member, cloud, monkeypatch):
    job = operations.reboot_instance(seed_instance(cloud, cluster, "vm1"), actor=member)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    sent: list[int] = []
    monkeypatch.setattr(tasks.run_job, "delay", sent.append)
    assert tasks.resume_jobs() == 1
    assert sent == [job.pk]


# --- jobs that queue child jobs (Ganeti's node evacuation) -----------------------------------------


class EvacuatingCluster(FakeCluster):
    """Evacuates like Ganeti: the node job succeeds once it has queued one migrate job per instance.

    Each child job is summarised ``INSTANCE_MIGRATE(name)``; the parent's final status lists the
    children (`JobStatus.children`). Scripts given with `script` apply to the parent first, then
    to the children in instance order.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.children: dict[str, tuple[str, ...]] = {}

    def evacuate_node(self, node: str, *, mode: str = "all") -> str:
        parent = self._submit("evacuate_node", node, lambda: None, must_exist=False)
        movers = sorted(info.name for info in self.vms.values() if info.primary_node == node)
        self.children[parent] = tuple(
            self._submit(f"INSTANCE_MIGRATE({name})", name, lambda name=name: self._move(name, None)) for name in movers
        )
        self._advance(self.jobs[parent], self.jobs[parent].position)  # the parent's status now lists them
        return parent

    def _advance(self, job, position: int) -> None:
        super()._advance(job, position)
        if job.status.state == OK and job.job_id in self.children:
            job.status = replace(job.status, children=self.children[job.job_id])


@pytest.fixture
def evac(cloud, cluster):
    """Cluster "a" evacuating through child jobs, with a Node row for node1."""
    cloud.clusters["a"] = EvacuatingCluster("a")
    Node.objects.create(cluster=cluster, name="node1")
    return cloud.clusters["a"]


def test_evacuation_finishes_after_child_jobs_move_instances_when_ganeti_queues_them(cluster, member, cloud, evac):
    seed_instance(cloud, cluster, "vm1")
    seed_instance(cloud, cluster, "vm2")
    seed_instance(cloud, cluster, "vm3", primary_node="node2")
    evac.script(Step(Q), Step(R), Step(OK))  # the parent
    evac.script(Step(Q), Step(R), Step(R), Step(R), Step(OK))  # vm1's migration takes longer
    job = operations.evacuate_node(Node.objects.get(name="node1"), actor=member)
    assert jobs.run_job(job.pk) == "success"
    job.refresh_from_db()
    children = list(Job.objects.filter(params__parent=job.pk).order_by("job_id"))
    assert job.params["children"] == ["2", "3"] == [c.job_id for c in children]
    assert [(c.operation, c.target, c.instance.name, c.status) for c in children] == [
        ("migrate", "vm1", "vm1", "success"),
        ("migrate", "vm2", "vm2", "success"),
    ]
    assert all(c.params["source_node"] == "node1" and c.actor == job.actor for c in children)
    rows = {row.name: row.primary_node for row in Instance.objects.all()}
    assert rows == {"vm1": "node2", "vm2": "node2", "vm3": "node2"}
    assert "2 of 2 child job(s) succeeded" in job.log[-1]["message"]
    assert job.progress == 100 and job.ended_at is not None


def test_evacuation_stays_unfinished_then_resumes_when_cluster_drops_during_child(cluster, member, cloud, evac):
    seed_instance(cloud, cluster, "vm1")
    evac.script(Step(Q), Step(OK))
    evac.script(Step(Q), Step(R), Step(R), Step(R), Step(R), Step(OK))
    job = operations.evacuate_node(Node.objects.get(name="node1"), actor=member)
    evac.unreachable_on_wait = 3  # the parent's first wait, then the child's second
    assert jobs.run_job(job.pk) == "running"
    job.refresh_from_db()
    child = Job.objects.get(params__parent=job.pk)
    assert (job.finished, job.lease_until, child.finished, child.lease_until) == (False, None, False, None)
    assert Instance.objects.get(name="vm1").primary_node == "node1"  # not moved yet
    assert "queued job(s) 2 for this one" in job.log[-1]["message"]
    assert jobs.run_job(job.pk) == "success"  # resumed: the same child row is followed, no second one
    assert Job.objects.filter(params__parent=job.pk).get().status == "success"
    assert Instance.objects.get(name="vm1").primary_node == "node2"


def test_evacuation_fails_with_child_reason_when_a_child_job_fails(cluster, member, cloud, evac):
    seed_instance(cloud, cluster, "vm1")
    seed_instance(cloud, cluster, "vm2")
    reason = "OpPrereqError: Not enough memory on node2 for vm2"
    evac.script(Step(Q), Step(OK))
    evac.script(Step(Q), Step(OK))
    evac.script(Step(Q), Step(ERR, error=reason))
    job = operations.evacuate_node(Node.objects.get(name="node1"), actor=member)
    assert jobs.run_job(job.pk) == "error"
    job.refresh_from_db()
    assert job.error == f"job 3 (migrate vm2) error: {reason}"
    vm1, vm2 = Instance.objects.get(name="vm1"), Instance.objects.get(name="vm2")
    assert (vm1.primary_node, vm1.fault) == ("node2", "")
    assert (vm2.primary_node, vm2.fault) == ("node1", reason)


@pytest.mark.parametrize(
    ("summaries", "expected"),
    [
        (("INSTANCE_MIGRATE(vm1.example.org)",), ("migrate", "vm1.example.org")),
        (("INSTANCE_FAILOVER(vm2)",), ("failover", "vm2")),
        (("INSTANCE_REPLACE_DISKS(vm3)",), ("evacuate_child", "vm3")),
        (("CLUSTER_VERIFY",), ("evacuate_child", "")),
        ((), ("evacuate_child", "")),
    ],
)
def test_child_operation_reads_opcode_and_instance_when_summary_given(summaries, expected):
    assert outcomes.child_operation(summaries) == expected
