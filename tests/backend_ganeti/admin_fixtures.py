"""Fixtures of the backend admin surface tests (commands, admin API, admin pages).

A test module uses them with `pytest_plugins = ["tests.backend_ganeti.admin_fixtures"]` (names
chosen not to shadow pytest-django's own `admin_client`).
`estate` builds two clusters without talking to any: `alpha` (Ganeti, two nodes, instances
`web1` and `db1`) and `beta` (libvirt host, one node, another `web1` so bare names are ambiguous).
Test modules also import its helpers, before pytest registers it as a plugin; it has no asserts
to rewrite (PYTEST_DONT_REWRITE), so pytest need not warn about that.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from backend_ganeti.models import Cluster, Instance, Job, Node, NodeGroup
from identity.models import Project, User
from tests.factories import make_token

SECRET = "s3cret-rapi-pass"


def like(real: Callable[..., Any], fake: Callable[..., Any]) -> Callable[..., Any]:
    """`fake`, refusing any call the real service's signature would refuse (so fakes cannot drift)."""
    signature = inspect.signature(real)

    def call(*args: Any, **kwargs: Any) -> Any:
        signature.bind(*args, **kwargs)
        return fake(*args, **kwargs)

    return call


def make_cluster(name: str, **fields: Any) -> Cluster:
    """A reachable, enabled Ganeti cluster row with some capacity (no network)."""
    values: dict[str, Any] = {
        "kind": Cluster.Kind.GANETI,
        "endpoint": f"https://{name}.example.org:5080",
        "username": "nefos",
        "password": SECRET,
        "hypervisor": "kvm",
        "software_version": "3.0.2",
        "mem_total_mb": 16384,
        "mem_free_mb": 12288,
        "disk_total_mb": 204800,
        "disk_free_mb": 102400,
        "cpu_total": 16,
        "cpu_used": 4,
    }
    values.update(fields)
    return Cluster.objects.create(name=name, **values)


def make_node(cluster: Cluster, name: str, **fields: Any) -> Node:
    """A node in the cluster's `default` group."""
    group, _ = NodeGroup.objects.get_or_create(cluster=cluster, name="default", defaults={"uuid": f"{cluster.name}-g"})
    values: dict[str, Any] = {
        "group": group,
        "role": "R",
        "mtotal": 8192,
        "mfree": 6144,
        "dtotal": 102400,
        "dfree": 51200,
        "ctotal": 8,
    }
    values.update(fields)
    return Node.objects.create(cluster=cluster, name=name, **values)


def make_instance(cluster: Cluster, name: str, **fields: Any) -> Instance:
    """A running instance on the cluster's first node."""
    values: dict[str, Any] = {
        "status": Instance.Status.RUNNING,
        "primary_node": "",
        "vcpus": 1,
        "memory_mb": 512,
        "disk_template": "file",
        "os": "noop",
        "disks": [{"size_mb": 1024, "template": "file"}],
        "nics": [{"mac": "aa:00:00:00:00:01"}],
    }
    values.update(fields)
    return Instance.objects.create(cluster=cluster, name=name, **values)


def make_job(cluster: Cluster, **fields: Any) -> Job:
    """A job row (running, with two log lines, unless told otherwise)."""
    values: dict[str, Any] = {
        "job_id": "17",
        "operation": "migrate",
        "target": "web1",
        "status": Job.Status.RUNNING,
        "progress": 40,
        "log": [
            {"serial": 1, "time": 1700000000.0, "kind": "message", "message": "Migrating instance web1"},
            {"serial": 2, "time": 1700000001.5, "kind": "message", "message": "* memory transfer progress: 40 %"},
        ],
        "last_log_serial": 2,
        "actor": "cloud-admin",
    }
    values.update(fields)
    return Job.objects.create(cluster=cluster, **values)


@dataclass
class Estate:
    """The rows `estate` made, by name."""

    alpha: Cluster
    beta: Cluster
    node1: Node
    node2: Node
    node3: Node
    web1: Instance
    db1: Instance
    web1_beta: Instance
    job: Job
    project: Project


@pytest.fixture
def estate(db, project) -> Estate:
    """Two clusters, three nodes, three instances (web1 on both clusters) and one running job."""
    alpha = make_cluster("alpha")
    beta = make_cluster(
        "beta",
        kind=Cluster.Kind.LIBVIRT,
        endpoint="unix:///run/nefos/host.sock",
        username="",
        password="",
        hypervisor="qemu",
        mem_total_mb=4096,
        mem_free_mb=1024,
        disk_total_mb=0,
        disk_free_mb=0,
        cpu_total=4,
        cpu_used=3,
    )
    node1 = make_node(alpha, "node1.alpha", role="M", pinst_cnt=2, sinst_cnt=0)
    node2 = make_node(alpha, "node2.alpha", role="C", mfree=1536, dfree=2048, pinst_cnt=0, sinst_cnt=1)
    node3 = make_node(beta, "host.beta", mtotal=4096, mfree=1024, dtotal=None, dfree=None, ctotal=4, pinst_cnt=1)
    web1 = make_instance(alpha, "web1", primary_node=node1.name, secondary_nodes=[node2.name], project=project)
    db1 = make_instance(alpha, "db1", primary_node=node1.name, status=Instance.Status.STOPPED, memory_mb=2048)
    web1_beta = make_instance(beta, "web1", primary_node=node3.name, disk_template="diskless", disks=[])
    job = make_job(alpha, instance=web1)
    return Estate(alpha, beta, node1, node2, node3, web1, db1, web1_beta, job, project)


@pytest.fixture
def token_client() -> Callable[[str | None], APIClient]:
    """`api(token)`: a DRF test client that sends `X-Auth-Token: token`."""

    def make(token: str | None = None) -> APIClient:
        client = APIClient()
        if token:
            client.credentials(HTTP_X_AUTH_TOKEN=token)
        return client

    return make


@pytest.fixture
def admin_api(token_client, admin_user) -> APIClient:
    """A client with an admin token on the admin project."""
    return token_client(make_token(admin_user, Project.objects.get(name="admin"), ("admin", "member", "reader")))


@pytest.fixture
def member_api(token_client, member, project) -> APIClient:
    """A client with a member token of `member` on `project` (not an admin)."""
    return token_client(make_token(member, project))


@pytest.fixture
def admin_web(admin_user: User) -> Client:
    """A dashboard client signed in as the cloud admin."""
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_web(member: User) -> Client:
    """A dashboard client signed in as a plain project member."""
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def no_enqueue(monkeypatch) -> list[int]:
    """Record the job ids services would hand to Celery instead of sending them (`tasks.run_job.delay`)."""
    from backend_ganeti import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk, *args, **kwargs: sent.append(pk))
    return sent
