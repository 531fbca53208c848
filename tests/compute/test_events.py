"""The instance_changed receiver: ownership, idempotency, progress, and what each status means."""

from __future__ import annotations

import uuid

import pytest

from backend_ganeti.models import Instance, Job
from backend_ganeti.services.events import SOURCE_RECONCILE, InstanceEvent, apply_event
from compute.models import Server
from compute.services import events
from tests.backend_ganeti.backend_factories import seed_instance

pytestmark = pytest.mark.django_db


def test_receiver_ignores_instances_no_server_owns(cluster, cloud, django_capture_on_commit_callbacks):
    instance = seed_instance(cloud, cluster, "stray")  # owner_ref "server-stray": not a server id
    Instance.objects.filter(pk=instance.pk).update(owner_ref=str(uuid.uuid4()))
    with django_capture_on_commit_callbacks(execute=True):
        apply_event(InstanceEvent(cluster.pk, "stray", instance.backend_time + 1, SOURCE_RECONCILE, status="stopped"))
    assert not Server.objects.exists()
    assert events.apply_instance(uuid.uuid4(), instance.pk) is None


def test_receiver_is_idempotent_when_applied_twice(nova, booted):
    row = Server.objects.get(pk=booted["id"])
    first = events.apply_instance(row.pk, row.instance_id)
    second = events.apply_instance(row.pk, row.instance_id)
    assert (first.vm_state, first.task_state, first.progress) == (second.vm_state, second.task_state, 100)


def test_receiver_ignores_events_of_a_replaced_instance(nova, booted, cluster, cloud):
    row = Server.objects.get(pk=booted["id"])
    old = seed_instance(cloud, cluster, "old-instance")
    Instance.objects.filter(pk=old.pk).update(owner_ref=str(row.pk), status="error", fault="old failure")
    assert events.apply_instance(row.pk, old.pk) is None
    assert nova.show(booted["id"])["status"] == "ACTIVE"


def test_receiver_copies_build_progress_while_create_job_runs(
    nova, image, flavors, cluster, queued_jobs, django_capture_on_commit_callbacks
):
    created = nova.boot(image, "1")
    instance = Instance.objects.get(owner_ref=created["id"])
    Job.objects.filter(instance=instance).update(status=Job.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        apply_event(InstanceEvent(cluster.pk, instance.name, 0, "job", progress=40))
    server = nova.show(created["id"])
    assert (server["status"], server["progress"]) == ("BUILD", 40)


def test_receiver_follows_out_of_band_stop_when_reconcile_reports_it(
    nova, booted, cluster, django_capture_on_commit_callbacks
):
    instance = Instance.objects.get(owner_ref=booted["id"])
    with django_capture_on_commit_callbacks(execute=True):
        apply_event(
            InstanceEvent(cluster.pk, instance.name, instance.backend_time + 5, SOURCE_RECONCILE, status="stopped")
        )
    server = nova.show(booted["id"])
    assert (server["status"], server["OS-EXT-STS:power_state"]) == ("SHUTOFF", 4)


def test_receiver_shows_backend_error_as_fault_when_instance_fails(
    nova, booted, cluster, django_capture_on_commit_callbacks
):
    instance = Instance.objects.get(owner_ref=booted["id"])
    with django_capture_on_commit_callbacks(execute=True):
        apply_event(
            InstanceEvent(
                cluster.pk,
                instance.name,
                instance.backend_time + 5,
                SOURCE_RECONCILE,
                status="error",
                fault="node lost",
            )
        )
    server = nova.show(booted["id"])
    assert server["status"] == "ERROR" and server["fault"]["message"] == "node lost"
