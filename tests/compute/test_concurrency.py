"""Concurrency on PostgreSQL: 20 parallel boots against a quota of 10 servers -> exactly 10 accepted,
each with its own fixed IP (no address handed out twice)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from backend_ganeti import tasks
from compute.models import Server
from compute.network.models import IPAllocation
from identity.quota_models import Holding
from identity.services import quotas
from tests.factories import make_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 20
LIMIT = 10


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency need PostgreSQL (SQLite serialises every writer)")


def test_parallel_boots_accept_exactly_quota_and_never_share_an_ip(
    project, member, image, flavors, network, cluster, monkeypatch
):
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: None)  # builds are not the point here
    quotas.set_limit(project, "compute.servers", LIMIT, actor=None)
    token = make_token(member, project)
    start = threading.Barrier(PARALLEL)
    body = {"server": {"name": "race", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": network}]}}

    def boot(_: int) -> int:
        client = APIClient()
        try:
            start.wait(timeout=30)
            response = client.post(
                "/compute/v2.1/servers",
                body,
                format="json",
                HTTP_X_AUTH_TOKEN=token,
                HTTP_OPENSTACK_API_VERSION="compute 2.47",
            )
            return response.status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(PARALLEL) as pool:
        codes = list(pool.map(boot, range(PARALLEL)))
    assert sorted(codes) == [202] * LIMIT + [403] * (PARALLEL - LIMIT), codes
    assert Server.objects.filter(project=project).count() == LIMIT
    holding = Holding.objects.with_bracket().get(project=project, user=None, resource_id="compute.servers")
    assert (holding.usage_min, holding.usage_max) == (LIMIT, LIMIT)
    allocations = IPAllocation.objects.filter(port__device_owner="compute:nova")
    addresses = list(allocations.values_list("ip_address", flat=True))
    assert len(addresses) == LIMIT and len(set(addresses)) == LIMIT
