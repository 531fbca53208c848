"""The `refresh_clusters` beat task: every cluster that is not offline gets a fresh capacity snapshot."""

from __future__ import annotations

import pytest

from backend_ganeti import tasks
from backend_ganeti.models import Cluster
from backend_ganeti.services import clusters
from tests.backend_ganeti.fake_cluster_driver import FakeClusters, node

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes(monkeypatch) -> FakeClusters:
    registry = FakeClusters()
    monkeypatch.setattr(clusters, "driver_for", registry.driver_for)
    return registry


def add(fakes: FakeClusters, name: str) -> Cluster:
    endpoint = f"https://{name}.example.org:5080"
    fakes.add(endpoint, name=name, nodes=[node("n1", mem=4096, disk=10_000, cpus=2)])
    return clusters.add_cluster(name=name, kind="ganeti", endpoint=endpoint, username="admin",
                                password="s3cret-rapi-pass", actor=None)  # fmt: skip


def test_refresh_clusters_updates_capacity_and_reports_unreachable_when_run(fakes):
    up, down, off = add(fakes, "up"), add(fakes, "down"), add(fakes, "off")
    clusters.set_cluster_state(off, Cluster.State.OFFLINE, actor=None)
    fakes.by_endpoint[up.endpoint].nodes = [node("n1", mem=8192, disk=10_000, cpus=2)]
    fakes.by_endpoint[down.endpoint].reachable = False
    calls_off = fakes.by_endpoint[off.endpoint].calls

    results = tasks.refresh_clusters()

    assert results["up"] == "ok" and results["down"].startswith("unreachable")
    assert "off" not in results and fakes.by_endpoint[off.endpoint].calls == calls_off
    up.refresh_from_db()
    down.refresh_from_db()
    assert up.mem_total_mb == 8192 and up.reachable
    assert not down.reachable and down.last_error
