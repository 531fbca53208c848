"""Concurrency on PostgreSQL: parallel creates against the volume quota accept exactly the limit, and
parallel attaches of one volume to one server leave exactly one attachment (one backend job)."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend_ganeti import tasks
from backend_ganeti.models import Job
from compute.volume.models import Volume
from compute.volume.services import volumes
from compute.volume.services.types import default_type
from identity.services import quotas
from tests.concurrency import run_threads
from tests.factories import make_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PARALLEL = 12


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency need PostgreSQL (SQLite serialises every writer)")


def test_parallel_creates_accept_exactly_quota_when_racing(project, member):
    quotas.set_limit(project, "volume.volumes", 5, actor=None)
    token = make_token(member, project)

    def create(_: int) -> int:
        response = APIClient().post(
            f"/volume/v3/{project.pk}/volumes", {"volume": {"size": 1}}, format="json", HTTP_X_AUTH_TOKEN=token
        )
        return response.status_code

    codes = run_threads(create, PARALLEL)
    assert sorted(codes) == [202] * 5 + [413] * (PARALLEL - 5), codes
    assert Volume.objects.filter(project=project).count() == 5


def test_parallel_attaches_of_one_volume_leave_one_attachment_when_racing(nova, booted, project, member, monkeypatch):
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: None)  # the race is the point, not the job
    volume = volumes.create_volume(project, volumes.VolumeSpec(size=1, volume_type=default_type()), actor=member)
    token = make_token(member, project)
    url = f"/compute/v2.1/servers/{booted['id']}/os-volume_attachments"
    before = Job.objects.count()

    def attach(_: int) -> int:
        body = {"volumeAttachment": {"volumeId": str(volume.pk)}}
        return APIClient().post(url, body, format="json", HTTP_X_AUTH_TOKEN=token).status_code

    codes = run_threads(attach, 6)
    assert sorted(codes) == [200] + [400] * 5, codes
    assert Job.objects.count() == before + 1
    assert Volume.objects.get(pk=volume.pk).status == "attaching"
