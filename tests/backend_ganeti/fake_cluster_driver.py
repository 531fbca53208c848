"""A small in-memory ClusterDriver for tests of the cluster and allocation services.

`FakeClusters` holds one `FakeCluster` (nodes, templates, credentials, reachability) per endpoint;
its `driver_for` replaces `backend_ganeti.services.clusters.driver_for`, so the services talk to
these fakes exactly as they would to a Ganeti or libvirt driver. Only queries are implemented:
the services under test never submit jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backend_ganeti.drivers.types import (
    ClusterSummary,
    ConsoleInfo,
    CreateSpec,
    DiskSpec,
    InstanceInfo,
    JobStatus,
    NicSpec,
    NodeGroupInfo,
    NodeInfo,
)
from backend_ganeti.rapi.errors import AuthenticationFailed, ClusterUnreachable, NotFound


def node(
    name: str, *, mem: int = 8192, disk: int = 100_000, cpus: int = 4, group: str = "default", **flags
) -> NodeInfo:
    """A node with `mem` MiB memory and `disk` MiB disk, all free unless `mfree`/`dfree` say otherwise."""
    return NodeInfo(
        name=name,
        group=group,
        role=flags.pop("role", "R"),
        mtotal=mem,
        mfree=flags.pop("mfree", mem),
        dtotal=disk,
        dfree=flags.pop("dfree", disk),
        ctotal=cpus,
        **flags,
    )


@dataclass
class FakeCluster:
    """What one fake cluster reports, and how it answers."""

    name: str = "fake"
    nodes: list[NodeInfo] = field(default_factory=lambda: [node("node1"), node("node2")])
    groups: list[NodeGroupInfo] = field(default_factory=lambda: [NodeGroupInfo(name="default", uuid="uuid-default")])
    disk_templates: tuple[str, ...] = ("diskless", "file", "plain", "drbd")
    software_version: str = "3.0.2"
    hypervisor: str = "kvm"
    username: str = "admin"
    password: str = "s3cret-rapi-pass"
    reachable: bool = True
    # When set, every query fails with this message (e.g. one that quotes the password).
    error_message: str = ""
    # Called on every query, to make something happen while the service waits for the cluster.
    on_query: Callable[[], object] | None = None
    calls: int = 0


class FakeDriver:
    """The ClusterDriver of one FakeCluster, checking the credentials the Cluster row carries."""

    def __init__(self, fake: FakeCluster, *, username: str, password: str) -> None:
        self.fake = fake
        self.username = username
        self.password = password
        self.closed = False

    def _check(self) -> None:
        self.fake.calls += 1
        if self.fake.on_query is not None:
            self.fake.on_query()
        if not self.fake.reachable:
            raise ClusterUnreachable(self.fake.error_message or "connection refused", cluster=self.fake.name)
        if (self.username, self.password) != (self.fake.username, self.fake.password):
            raise AuthenticationFailed(401, "Unauthorized", cluster=self.fake.name)

    def summary(self) -> ClusterSummary:
        self._check()
        return ClusterSummary(
            name=self.fake.name,
            software_version=self.fake.software_version,
            hypervisor=self.fake.hypervisor,
            disk_templates=self.fake.disk_templates,
            master=self.fake.nodes[0].name if self.fake.nodes else "",
        )

    def groups(self) -> list[NodeGroupInfo]:
        self._check()
        return list(self.fake.groups)

    def nodes(self) -> list[NodeInfo]:
        self._check()
        return list(self.fake.nodes)

    def instances(self) -> list[InstanceInfo]:
        self._check()
        return []

    def instance(self, name: str) -> InstanceInfo:
        self._check()
        raise NotFound(404, f"Instance {name} not found", cluster=self.fake.name)

    def networks(self) -> list[str]:
        self._check()
        return []

    def console(self, name: str) -> ConsoleInfo:
        raise NotImplementedError

    def create(self, spec: CreateSpec) -> str:
        raise NotImplementedError

    def start(self, name: str) -> str:
        raise NotImplementedError

    def stop(self, name: str, *, timeout: int | None = None) -> str:
        raise NotImplementedError

    def reboot(self, name: str, *, hard: bool = False) -> str:
        raise NotImplementedError

    def destroy(self, name: str) -> str:
        raise NotImplementedError

    def resize(self, name: str, *, vcpus: int, memory_mb: int) -> str:
        raise NotImplementedError

    def add_disk(self, name: str, disk: DiskSpec) -> str:
        raise NotImplementedError

    def remove_disk(self, name: str, index: int) -> str:
        raise NotImplementedError

    def grow_disk(self, name: str, index: int, amount_mb: int) -> str:
        raise NotImplementedError

    def attach_disk(self, name: str, disk_name: str) -> str:
        raise NotImplementedError

    def detach_disk(self, name: str, disk_name: str) -> str:
        raise NotImplementedError

    def delete_detached_disk(self, name: str, disk_name: str) -> str:
        raise NotImplementedError

    def add_nic(self, name: str, nic: NicSpec) -> str:
        raise NotImplementedError

    def remove_nic(self, name: str, index: int) -> str:
        raise NotImplementedError

    def migrate(self, name: str, *, target_node: str | None = None, live: bool = True) -> str:
        raise NotImplementedError

    def failover(self, name: str, *, target_node: str | None = None) -> str:
        raise NotImplementedError

    def change_disk_template(self, name: str, template: str, *, secondary_node: str | None = None) -> str:
        raise NotImplementedError

    def evacuate_node(self, node: str, *, mode: str = "all") -> str:
        raise NotImplementedError

    def set_node_drained(self, node: str, drained: bool) -> str:
        raise NotImplementedError

    def job(self, job_id: str) -> JobStatus:
        raise NotImplementedError

    def wait_job(self, job_id: str, *, previous: JobStatus | None, timeout: float) -> JobStatus:
        raise NotImplementedError

    def cancel_job(self, job_id: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True


class FakeClusters:
    """Fake clusters by endpoint; `driver_for` stands in for the driver registry."""

    def __init__(self) -> None:
        self.by_endpoint: dict[str, FakeCluster] = {}
        self.drivers: list[FakeDriver] = []

    def add(self, endpoint: str, **options) -> FakeCluster:
        """Serve a fake cluster at `endpoint`."""
        fake = FakeCluster(**options)
        self.by_endpoint[endpoint] = fake
        return fake

    def driver_for(self, cluster) -> FakeDriver:
        """A driver for the Cluster row (unreachable when nothing is served at its endpoint)."""
        fake = self.by_endpoint.get(cluster.endpoint) or FakeCluster(name=cluster.name, reachable=False)
        driver = FakeDriver(fake, username=cluster.username, password=cluster.password)
        self.drivers.append(driver)
        return driver
