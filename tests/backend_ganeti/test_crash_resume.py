"""A worker killed mid-job loses nothing: after resume the job ends once, with one create on the cluster.

The in-process tests stop the watcher at each crash point with `SimulatedCrash` (a BaseException,
as uncatchable for the product as kill -9), let the lease expire, and run `resume_jobs` +
`run_job` as beat and a fresh worker would. `test_killed_worker_*` does it for real: a Celery
worker process on the filesystem broker, killed with SIGKILL mid-create against the embedded
libvirt host agent, then a new worker and a resume (tests/backend_ganeti/crash_harness.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend_ganeti import tasks
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobState
from backend_ganeti.models import Instance, Job
from backend_ganeti.services import jobs, operations, outcomes
from tests.backend_ganeti.backend_factories import make_cluster, seed_instance
from tests.backend_ganeti.fake_driver import SimulatedCrash, Step, install

S = Instance.Status


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setattr(jobs, "ADOPT_POLL_SECONDS", 0.0)
    return install(monkeypatch)


@pytest.fixture
def resumed(monkeypatch):
    """Jobs `resume_jobs` hands to Celery are run at once, as a fresh worker would."""
    ran: list[str] = []
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: ran.append(jobs.run_job(pk)))
    return ran


@pytest.fixture
def cluster(db):
    return make_cluster("a")


def expire_leases() -> None:
    """The dead worker's lease runs out."""
    Job.objects.update(lease_until=timezone.now() - timedelta(seconds=1))


def create(cluster, project, member) -> Instance:
    spec = CreateSpec("vm1", 1, 512, "file", (DiskSpec(1024),))
    return operations.create_instance(project=project, owner_ref="srv", spec=spec, cluster=cluster, actor=member)


def assert_created_once(cloud, instance: Instance) -> None:
    instance.refresh_from_db()
    job = Job.objects.get(instance=instance)
    assert (job.status, instance.status, instance.fault) == ("success", S.RUNNING, "")
    assert cloud.cluster("a").count("create") == 1
    assert list(cloud.cluster("a").vms) == ["vm1"]
    assert Instance.objects.filter(name="vm1").count() == 1


def test_resume_adopts_create_when_worker_died_before_storing_job_id(cluster, project, member, cloud, resumed):
    cloud.cluster("a").crash_after_submit = {"create"}
    instance = create(cluster, project, member)
    job = Job.objects.get(instance=instance)
    with pytest.raises(SimulatedCrash):
        jobs.run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.job_id) == ("submitting", "")  # the cluster has the job, the DB not its id
    assert tasks.resume_jobs() == 0 and resumed == []  # the lease is still live
    expire_leases()
    assert tasks.resume_jobs() == 1
    assert resumed == ["success"]
    assert_created_once(cloud, instance)
    assert "an earlier attempt created it" in Job.objects.get().log[-1]["message"]


def test_resume_finishes_create_once_when_worker_died_while_following(cluster, project, member, cloud, resumed):
    fake = cloud.cluster("a")
    running = [Step(JobState.RUNNING, (f"step {i}",), progress=(i + 1) * 20) for i in range(3)]
    fake.script(Step(JobState.QUEUED), *running, Step(JobState.SUCCESS, ("done",)))
    fake.crash_on_wait = 3
    instance = create(cluster, project, member)
    with pytest.raises(SimulatedCrash):
        jobs.run_job(Job.objects.get().pk)
    job = Job.objects.get()
    assert job.job_id == "1" and not job.finished and job.progress == 20
    expire_leases()
    tasks.resume_jobs()
    assert resumed == ["success"]
    assert_created_once(cloud, instance)
    job.refresh_from_db()
    assert [line["message"] for line in job.log] == ["step 0", "step 1", "step 2", "done"]
    assert job.job_id == "1"


def test_resume_concludes_job_when_it_finished_while_no_worker_ran(cluster, member, cloud, resumed):
    instance = seed_instance(cloud, cluster, "vm1")
    fake = cloud.cluster("a")
    fake.crash_on_wait = 2
    job = operations.stop_instance(instance, actor=member)
    with pytest.raises(SimulatedCrash):
        jobs.run_job(job.pk)
    for _ in range(5):
        fake.tick()  # the cluster runs the job to its end meanwhile
    expire_leases()
    tasks.resume_jobs()
    instance.refresh_from_db()
    assert resumed == ["success"] and instance.status == S.STOPPED
    assert fake.count("stop") == 1


def test_resume_does_not_repeat_migration_when_earlier_attempt_took_effect(cluster, member, cloud, resumed):
    instance = seed_instance(cloud, cluster, "vm1", secondary_nodes=("node2",))
    fake = cloud.cluster("a")
    fake.crash_after_submit = {"migrate"}
    job = operations.migrate_instance(instance, actor=member)
    with pytest.raises(SimulatedCrash):
        jobs.run_job(job.pk)
    for _ in range(5):
        fake.tick()
    expire_leases()
    tasks.resume_jobs()
    instance.refresh_from_db()
    assert resumed == ["success"] and instance.primary_node == "node2"
    assert fake.count("migrate") == 1


def test_resume_applies_outcome_once_when_worker_died_inside_finish(
    cluster, project, member, cloud, resumed, monkeypatch
):
    released: list[dict] = []
    crashes = iter([True])

    def release(cluster, **amounts):
        if next(crashes, False):
            raise SimulatedCrash("worker killed while finishing")
        released.append(amounts)

    monkeypatch.setattr(outcomes.allocation, "release_reservation", release)
    instance = create(cluster, project, member)
    Job.objects.update(params={**Job.objects.get().params, "reserved": {"vcpus": 1, "memory_mb": 512, "disk_mb": 1024}})
    with pytest.raises(SimulatedCrash):
        jobs.run_job(Job.objects.get().pk)
    instance.refresh_from_db()
    assert not Job.objects.get().finished and instance.status == S.BUILDING  # rolled back as a whole
    expire_leases()
    tasks.resume_jobs()
    assert_created_once(cloud, instance)
    assert len(released) == 1


def test_run_job_lets_one_watcher_win_when_two_resume_the_same_job(cluster, member, cloud):
    instance = seed_instance(cloud, cluster, "vm1")
    job = operations.reboot_instance(instance, actor=member)
    first = jobs.take_lease(job.pk)
    assert jobs.take_lease(job.pk) is None
    jobs.submit_job(first)
    jobs.follow_job(first)
    assert jobs.run_job(job.pk) == "skipped"
    assert cloud.cluster("a").count("reboot") == 1


@pytest.mark.live
def test_killed_worker_create_ends_running_once_when_resumed(tmp_path_factory):
    from tests.backend_ganeti import crash_harness

    result = crash_harness.run_crash_scenario()
    assert result["killed_during"] in ("queued", "running")
    assert result["job_status"] == "success" and result["job_id_unchanged"]
    assert (result["instance_status"], result["instance_rows"]) == ("running", 1)
    assert result["instances_on_host"] == ["crash-vm"]
