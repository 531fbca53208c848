"""What the job watcher costs a create on its way to the cluster: no probe on a first attempt, the
cluster row written only when it changes, the lease renewed with the job id, few statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend_ganeti import tasks
from backend_ganeti.drivers.types import CreateSpec, DiskSpec
from backend_ganeti.models import Cluster, Job
from backend_ganeti.services import jobs, operations
from tests.backend_ganeti.backend_factories import make_cluster
from tests.backend_ganeti.fake_driver import install


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: None)
    return install(monkeypatch)


@pytest.fixture
def cluster(db):
    return make_cluster("a")


def create(cluster, project, member, name: str = "vm1") -> Job:
    spec = CreateSpec(name, 1, 512, "file", (DiskSpec(1024),))
    instance = operations.create_instance(project=project, owner_ref="srv", spec=spec, cluster=cluster, actor=member)
    return Job.objects.get(instance=instance)


def test_first_attempt_sends_the_create_without_asking_for_the_instance_first(cluster, project, member, cloud):
    job = create(cluster, project, member)
    leased = jobs.take_lease(job.pk)
    jobs.submit_job(leased, fresh=True)
    calls = [call[0] for call in cloud.cluster("a").calls]
    assert calls == ["create"]
    leased.refresh_from_db()
    assert (leased.status, leased.job_id, leased.params["submit_attempts"]) == ("queued", "1", 1)


def test_later_attempt_still_adopts_an_instance_an_earlier_attempt_created(cluster, project, member, cloud):
    job = create(cluster, project, member)
    fake = cloud.cluster("a")
    fake.add_instance("vm1")  # the dead attempt's create reached the cluster
    Job.objects.filter(pk=job.pk).update(params={**job.params, "submit_attempts": 1})
    assert jobs.run_job(job.pk) == "success"
    assert fake.count("create") == 0 and fake.count("instance") >= 1


def test_submit_renews_the_lease_with_the_job_id_and_keeps_it_only_if_ours(cluster, project, member, cloud):
    Cluster.objects.filter(pk=cluster.pk).update(last_seen=timezone.now())  # it answered just now
    job = create(cluster, project, member)
    leased = jobs.take_lease(job.pk)
    first_lease = leased.lease_until
    with CaptureQueriesContext(connection) as queries:
        jobs.submit_job(leased, fresh=True)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    # the attempt's claim and the job id with its lease; the cluster row, seen just now, is not written
    assert len(writes) == 2, writes
    row = Job.objects.get(pk=job.pk)
    assert row.lease_until == leased.lease_until and row.lease_until > first_lease

    other = create(cluster, project, member, name="vm2")
    stolen = jobs.take_lease(other.pk)
    taken_over = timezone.now() + timedelta(seconds=300)
    real_create = cloud.cluster("a").create

    def create_then_lose_lease(spec):
        answer = real_create(spec)
        Job.objects.filter(pk=other.pk).update(lease_until=taken_over)  # another watcher took it over
        return answer

    cloud.cluster("a").create = create_then_lose_lease
    jobs.submit_job(stolen, fresh=True)
    row = Job.objects.get(pk=other.pk)
    assert row.job_id and row.lease_until == taken_over  # the id is kept, the other lease untouched
    assert stolen.lease_until is None  # this watcher stops


def test_cluster_row_is_written_only_when_reachability_changes_or_is_old(cluster):
    Cluster.objects.filter(pk=cluster.pk).update(reachable=True, last_error="", last_seen=timezone.now())
    seen = Cluster.objects.get(pk=cluster.pk).last_seen
    with CaptureQueriesContext(connection) as queries:
        jobs.mark_reachable(cluster)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert Cluster.objects.get(pk=cluster.pk).last_seen == seen

    Cluster.objects.filter(pk=cluster.pk).update(reachable=False, last_error="refused")
    jobs.mark_reachable(cluster)
    row = Cluster.objects.get(pk=cluster.pk)
    assert (row.reachable, row.last_error) == (True, "") and row.last_seen >= seen

    old = timezone.now() - timedelta(seconds=jobs.SEEN_REFRESH_SECONDS + 5)
    Cluster.objects.filter(pk=cluster.pk).update(last_seen=old)
    jobs.mark_reachable(cluster)
    assert Cluster.objects.get(pk=cluster.pk).last_seen > old
