"""Fixtures of the Nova tests: real tokens, a fake cluster behind backend_ganeti, jobs run inline.

`nova` clients send real signed tokens through Django's test client; every request runs the
on-commit callbacks it queued (the backend's job enqueue, the quota accept, the instance_changed
receiver), so with `inline_jobs` a boot reaches ACTIVE before the response is read. Without it,
jobs are recorded in `queued_jobs` and run on demand (`run_jobs`), to look at BUILD and friends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend_ganeti import tasks
from backend_ganeti.models import Cluster
from backend_ganeti.services import jobs
from backend_ganeti.services.clusters import refresh_cluster
from backend_ganeti.services.embedded import ensure_embedded_cluster
from compute.image.services.seed import seed_default_image
from compute.network.services.networks import NetworkSpec, create_network
from compute.network.services.subnets import SubnetSpec, create_subnet
from compute.services.flavors import seed_default_flavors
from identity.models import Project, User
from identity.quota_registry import sync_resources
from tests.backend_ganeti.backend_factories import make_cluster
from tests.backend_ganeti.fake_driver import FakeCloud, install
from tests.compute.helpers import Nova
from tests.factories import ProjectFactory, UserFactory, assign, make_token


@pytest.fixture(autouse=True)
def _resources(db, settings, tmp_path) -> None:
    """Quota resources exist (bootstrap makes them); image data goes to a private block dir."""
    settings.OBJECTSTORE_BLOCK_DIR = str(tmp_path / "blocks")
    sync_resources()


NovaFor = Callable[..., Nova]


@pytest.fixture
def nova_for(db, django_capture_on_commit_callbacks) -> NovaFor:
    """`nova_for(user, project, roles=..., version=...)`: a Nova client with a real token."""

    def make(user: User, project: Project, roles: tuple[str, ...] = ("member", "reader"), **kw: Any) -> Nova:
        token = make_token(user, project, roles)
        return Nova(APIClient(), token, django_capture_on_commit_callbacks, project=project, user=user, **kw)

    return make


@pytest.fixture
def nova(nova_for, member, project) -> Nova:
    """A member of `project` at the highest microversion."""
    return nova_for(member, project)


@pytest.fixture
def admin_project(admin_user) -> Project:
    return Project.objects.get(name="admin")


@pytest.fixture
def admin_nova(nova_for, admin_user, admin_project) -> Nova:
    """The cloud admin on the admin project."""
    return nova_for(admin_user, admin_project, ("admin", "member", "reader"))


@pytest.fixture
def other_project(db) -> Project:
    return ProjectFactory()


@pytest.fixture
def other_nova(nova_for, other_project) -> Nova:
    """A member of an unrelated project."""
    user = UserFactory()
    assign(user, other_project, "member", "reader")
    return nova_for(user, other_project)


@pytest.fixture
def reader_nova(nova_for, project) -> Nova:
    """A reader-only user of `project`."""
    user = UserFactory()
    assign(user, project, "reader")
    return nova_for(user, project, ("reader",))


@pytest.fixture
def cloud(monkeypatch) -> FakeCloud:
    """Every cluster is reached through an in-memory fake driver."""
    return install(monkeypatch)


@pytest.fixture
def cluster(db, cloud) -> Cluster:
    """One public cluster with room for plenty of servers."""
    return make_cluster("embedded", kind=Cluster.Kind.LIBVIRT, disk_templates=["diskless", "file"])


@pytest.fixture
def queued_jobs(monkeypatch) -> list[int]:
    """Jobs enqueued by the backend, recorded instead of sent (see `run_jobs`)."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.run_job, "delay", sent.append)
    return sent


@pytest.fixture
def run_jobs(queued_jobs, django_capture_on_commit_callbacks) -> Callable[[], int]:
    """Run every queued job (and what they queue) to its end; returns how many ran."""

    def run() -> int:
        count = 0
        while queued_jobs:
            pk = queued_jobs.pop(0)
            with django_capture_on_commit_callbacks(execute=True):
                jobs.run_job(pk)
            count += 1
        return count

    return run


@pytest.fixture
def inline_jobs(monkeypatch) -> None:
    """Backend jobs run as soon as they are enqueued (the fake cluster finishes them at once)."""
    monkeypatch.setattr(tasks.run_job, "delay", jobs.run_job)


@pytest.fixture
def flavors(db) -> list:
    """The default m1.* flavors."""
    return seed_default_flavors()


@pytest.fixture
def image(admin_project) -> str:
    """The id of the public seed image."""
    return seed_default_image(owner_project=admin_project).id


@pytest.fixture
def network(project, member) -> str:
    """The id of a network of `project` with a /24 subnet."""
    net = create_network(project, NetworkSpec(name="private"), actor=member)
    create_subnet(project, net, SubnetSpec(cidr="10.10.0.0/24"), actor=member)
    return str(net.pk)


@pytest.fixture
def booted(nova, image, flavors, network, cluster, inline_jobs) -> dict[str, Any]:
    """An ACTIVE server of `project` (m1.tiny, on `network`)."""
    server = nova.boot(image, "1", network)
    return nova.show(server["id"])


@pytest.fixture
def on_host(db, agent, inline_jobs, nova, image, flavors, network) -> dict[str, Any]:
    """An ACTIVE m1.tiny server of `project` on the embedded host agent the test module starts
    (each such module defines its own `agent` fixture, with the delays it wants)."""
    refresh_cluster(ensure_embedded_cluster(socket_path=agent.socket))
    server = nova.boot(image, "1", network)
    shown = nova.show(server["id"])
    assert shown["status"] == "ACTIVE", shown
    return shown
