"""Fixtures of the compute dashboard tests (imported by tests/ui/test_compute_*.py).

A member `carol` of `carol-project` signed in to the dashboard, another project's member `dave`,
the compute quota resources, an in-memory fake cluster behind backend_ganeti, the m1.* flavors,
the public seed image, a private network, and helpers that run the on-commit callbacks of a
request (job enqueue, quota accept) as the compute API tests do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from backend_ganeti import tasks
from backend_ganeti.models import Cluster
from backend_ganeti.services import jobs
from compute.image.services.seed import seed_default_image
from compute.models import Server
from compute.network.models import IPAllocation, Network, Port
from compute.network.services.networks import NetworkSpec, create_network
from compute.network.services.subnets import SubnetSpec, create_subnet
from compute.network.services.topology import ensure_public_network
from compute.services.flavors import seed_default_flavors
from identity.models import Project, User
from identity.quota_registry import sync_resources
from identity.services import catalog
from tests.backend_ganeti.backend_factories import make_cluster
from tests.backend_ganeti.fake_driver import FakeCloud, install
from tests.factories import ProjectFactory, UserFactory, assign, default_domain, role


@pytest.fixture
def compute_env(db, settings, tmp_path) -> None:
    """What bootstrap provides for compute: domain, roles, the declared quota resources, the catalog."""
    settings.OBJECTSTORE_BLOCK_DIR = str(tmp_path / "blocks")
    default_domain()
    for name in ("admin", "member", "reader"):
        role(name)
    sync_resources()
    catalog.seed_catalog("RegionOne")


def _member(name: str, project_name: str) -> User:
    user = UserFactory(name=name)
    project = ProjectFactory(name=project_name)
    assign(user, project, "member", "reader")
    user.default_project = project
    user.save(update_fields=["default_project"])
    return user


@pytest.fixture
def carol(compute_env) -> User:
    """A member of `carol-project` (her default project)."""
    return _member("carol", "carol-project")


@pytest.fixture
def carol_project(carol) -> Project:
    return Project.objects.get(name="carol-project")


@pytest.fixture
def carol_client(carol) -> Client:
    client = Client()
    client.force_login(carol)
    return client


@pytest.fixture
def dave(compute_env) -> User:
    """A member of another project, `dave-project`."""
    return _member("dave", "dave-project")


@pytest.fixture
def dave_project(dave) -> Project:
    return Project.objects.get(name="dave-project")


@pytest.fixture
def admin_project(compute_env) -> Project:
    return ProjectFactory(name="admin")


@pytest.fixture
def cloud(monkeypatch) -> FakeCloud:
    """Every cluster is reached through an in-memory fake driver."""
    return install(monkeypatch)


@pytest.fixture
def cluster(compute_env, cloud) -> Cluster:
    return make_cluster("embedded", kind=Cluster.Kind.LIBVIRT, disk_templates=["diskless", "file"])


@pytest.fixture
def inline_jobs(monkeypatch) -> None:
    """Backend jobs run as soon as they are enqueued (the fake cluster finishes them at once)."""
    monkeypatch.setattr(tasks.run_job, "delay", jobs.run_job)


@pytest.fixture
def queued_jobs(monkeypatch) -> list[int]:
    """Jobs are recorded instead of run: servers stay in their transitional states."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.run_job, "delay", sent.append)
    return sent


@pytest.fixture
def flavors(compute_env) -> list:
    return seed_default_flavors()


@pytest.fixture
def image(admin_project) -> str:
    """The id of the public seed image."""
    return seed_default_image(owner_project=admin_project).id


@pytest.fixture
def public_network(admin_project) -> Network:
    return ensure_public_network(project=admin_project)


@pytest.fixture
def network(carol, carol_project) -> Network:
    """A private network of carol's project with a /24 subnet."""
    net = create_network(carol_project, NetworkSpec(name="private"), actor=carol)
    create_subnet(carol_project, net, SubnetSpec(cidr="10.10.0.0/24"), actor=carol)
    return net


@pytest.fixture
def send(django_capture_on_commit_callbacks) -> Callable[..., Any]:
    """`send(client.post, url, data)`: one request whose on-commit callbacks run (jobs, quota accepts)."""

    def run(method: Callable[..., Any], url: str, data: Any = None, **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return method(url, data, **extra) if data is not None else method(url, **extra)

    return run


@pytest.fixture
def boot(carol_client, send, flavors, image, network, cluster) -> Callable[..., Server]:
    """`boot(name, count=1, flavor="1")`: create servers through the wizard; the newest one."""

    def run(name: str = "vm", count: int = 1, flavor: str = "1") -> Server:
        data = {"name": name, "count": count, "image": image, "flavor": flavor, "network": str(network.pk)}
        response = send(carol_client.post, "/cloud/servers/new/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        return Server.objects.filter(name__startswith=name).order_by("-created_at").first()

    return run


def _mac(index: int) -> str:
    return f"fa:16:3f:{index >> 16 & 255:02x}:{index >> 8 & 255:02x}:{index & 255:02x}"


def _make_servers(project: Project, user: User, count: int, *, network: Network | None = None, **fields: Any) -> list:
    """`count` server rows (ACTIVE unless told), each with a port and an address when `network` is given.

    Rows are inserted directly: listing speed does not depend on how servers were made.
    """
    values = {
        "vm_state": "active",
        "power_state": "running",
        "flavor_id": "1",
        "flavor_name": "m1.tiny",
        "vcpus": 1,
        "ram": 512,
        "disk": 1,
    }
    values.update(fields)
    servers = Server.objects.bulk_create(
        [Server(project=project, user_id=user.pk, name=f"bulk-{i:04d}", **values) for i in range(count)]
    )
    if network is not None:
        subnet = network.subnets.first()
        start = Port.objects.count()
        ports = Port.objects.bulk_create(
            [
                Port(
                    project=project,
                    network=network,
                    mac_address=_mac(start + i),
                    device_id=str(server.pk),
                    device_owner="compute:nova",
                    server_owned=True,
                )
                for i, server in enumerate(servers)
            ]
        )
        IPAllocation.objects.bulk_create(
            [
                IPAllocation(subnet=subnet, port=port, ip_address=f"10.10.{(start + i) // 250}.{(start + i) % 250 + 2}")
                for i, port in enumerate(ports)
            ]
        )
    return servers


@pytest.fixture
def make_servers(compute_env) -> Callable[..., list]:
    """`make_servers(project, user, count, network=None, **fields)`: server rows inserted directly."""
    return _make_servers
