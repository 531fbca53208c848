"""An in-memory `ClusterDriver` with scriptable jobs, for the job watcher, event and reconcile tests.

`FakeCluster` is one simulated cluster: instances, nodes, jobs and a cluster clock. Time passes
one tick per driver call (`wait_job` with `previous=None` is a free look): every unfinished job
advances one scripted step per tick, and an operation's effect lands on the instances when its
job reaches `success` (a create shows its instance, stopped, from submission on, as Ganeti does).
Tests script the next jobs (`script`), make the cluster unreachable, inject submit errors, or
simulate a worker dying (`SimulatedCrash`, a BaseException nothing in the product catches).

`install(monkeypatch)` patches `backend_ganeti.drivers.registry.driver_for` to hand out the
`FakeCluster` named like the cluster row.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from backend_ganeti.drivers import registry
from backend_ganeti.drivers.types import (
    ClusterSummary,
    ConsoleInfo,
    CreateSpec,
    DiskInfo,
    DiskSpec,
    InstanceInfo,
    JobLogEntry,
    JobState,
    JobStatus,
    NicInfo,
    NicSpec,
    NodeGroupInfo,
    NodeInfo,
    PowerState,
)
from backend_ganeti.rapi.errors import ClusterUnreachable, NotFound, NotSupported, RapiError


class SimulatedCrash(BaseException):
    """The worker process dies here (kill -9): nothing after this line runs."""


@dataclass(frozen=True)
class Step:
    """One scripted state of a job; `log` replaces the accumulated log when given (duplicates, reorder)."""

    state: JobState
    messages: tuple[str, ...] = ()
    progress: int | None = None
    error: str = ""
    log: tuple[JobLogEntry, ...] | None = None


DEFAULT_SCRIPT = (Step(JobState.QUEUED), Step(JobState.RUNNING, ("starting",)), Step(JobState.SUCCESS, ("done",)))


@dataclass
class FakeJob:
    """A job on the fake cluster and where it is in its script."""

    job_id: str
    op: str
    steps: tuple[Step, ...]
    effect: Callable[[], None]
    on_error: Callable[[], None]
    position: int = 0
    serial: int = 0
    entries: list[JobLogEntry] = field(default_factory=list)
    status: JobStatus | None = None


class FakeCluster:
    """One simulated cluster implementing `ClusterDriver`."""

    def __init__(self, name: str, nodes: tuple[str, ...] = ("node1", "node2")) -> None:
        self.name = name
        self.node_names = list(nodes)
        self.drained: set[str] = set()
        self.vms: dict[str, InstanceInfo] = {}
        self.detached: dict[str, DiskInfo] = {}  # disks kept by the cluster, attached to nothing
        self.jobs: dict[str, FakeJob] = {}
        self.calls: list[tuple] = []
        self.clock = 1_700_000_000.0
        self.unreachable = False
        self.unreachable_on_wait: int | None = None  # raise ClusterUnreachable at this wait call
        self.crash_on_wait: int | None = None  # SimulatedCrash at this wait call
        self.crash_after_submit: set[str] = set()  # ops whose submit "dies" after reaching us
        self.waits = 0
        self._scripts: deque[tuple[Step, ...]] = deque()
        self._submit_errors: deque[RapiError] = deque()
        self._ids = itertools.count(1)
        self._macs = itertools.count(1)

    # --- scripting ------------------------------------------------------------------------------
    def script(self, *steps: Step) -> None:
        """The next submitted job follows these steps."""
        self._scripts.append(tuple(steps))

    def fail_next_submit(self, exc: RapiError) -> None:
        """The next write call raises `exc` without creating a job."""
        self._submit_errors.append(exc)

    def add_instance(self, name: str, **fields) -> InstanceInfo:
        """Put an instance on the cluster (behind the portal's back)."""
        values = {
            "name": name,
            "primary_node": self.node_names[0],
            "secondary_nodes": (),
            "power": PowerState.RUNNING,
            "admin_up": True,
            "vcpus": 1,
            "memory_mb": 512,
            "disk_template": "file",
            "disks": (DiskInfo(size_mb=1024, template="file"),),
            "nics": (NicInfo(mac=self._mac()),),
            "os": "noop",
            "mtime": self.tick(),
        }
        values.update(fields)
        self.vms[name] = InstanceInfo(**values)
        return self.vms[name]

    def count(self, op: str) -> int:
        """How many times `op` was called."""
        return sum(1 for call in self.calls if call[0] == op)

    # --- time -----------------------------------------------------------------------------------
    def tick(self) -> float:
        """Advance the cluster clock and every unfinished job by one step."""
        self.clock += 1.0
        for job in self.jobs.values():
            if job.status is not None and not job.status.finished:
                self._advance(job, job.position + 1)
        return self.clock

    def _advance(self, job: FakeJob, position: int) -> None:
        job.position = min(position, len(job.steps) - 1)
        step = job.steps[job.position]
        for message in step.messages:
            job.serial += 1
            job.entries.append(JobLogEntry(job.serial, self.clock, "message", message))
        finished = step.state.finished
        job.status = JobStatus(
            job_id=job.job_id,
            state=step.state,
            operations=(job.op,),
            log=step.log if step.log is not None else tuple(job.entries),
            progress=step.progress,
            error=step.error,
            ended_at=self.clock if finished else None,
        )
        if step.state == JobState.SUCCESS:
            job.effect()
        elif finished:
            job.on_error()

    def _call(self, *call) -> None:
        if self.unreachable:
            raise ClusterUnreachable("connection refused", cluster=self.name)
        self.calls.append(call)
        self.tick()

    def _submit(
        self,
        op: str,
        name: str,
        effect: Callable[[], None],
        on_error: Callable[[], None] = lambda: None,
        *,
        must_exist: bool = True,
        prepare: Callable[[], None] = lambda: None,
    ) -> str:
        """A write call: reachability, injected errors, existence, then a new job at its first step."""
        self._call(op, name)
        if self._submit_errors:
            raise self._submit_errors.popleft()
        if must_exist:
            self._existing(name)
        prepare()
        steps = self._scripts.popleft() if self._scripts else DEFAULT_SCRIPT
        job = FakeJob(str(next(self._ids)), op, steps, effect, on_error)
        self.jobs[job.job_id] = job
        self._advance(job, 0)
        if op in self.crash_after_submit:
            self.crash_after_submit.discard(op)
            raise SimulatedCrash(f"worker killed after submitting {op} {name}")
        return job.job_id

    def _mac(self) -> str:
        return f"aa:00:00:00:{next(self._macs):02x}:01"

    def _update(self, name: str, **fields) -> None:
        if name in self.vms:
            self.vms[name] = replace(self.vms[name], mtime=self.clock, **fields)

    def _existing(self, name: str) -> InstanceInfo:
        if name not in self.vms:
            raise NotFound(404, f"Instance '{name}' not known", cluster=self.name)
        return self.vms[name]

    # --- queries --------------------------------------------------------------------------------
    def summary(self) -> ClusterSummary:
        self._call("summary")
        return ClusterSummary(self.name, "3.0.2", "fake", ("diskless", "file"), master=self.node_names[0])

    def groups(self) -> list[NodeGroupInfo]:
        self._call("groups")
        return [NodeGroupInfo("default", "uuid-default")]

    def nodes(self) -> list[NodeInfo]:
        self._call("nodes")
        return [
            NodeInfo(
                n, "default", "D" if n in self.drained else "R", 4096, 4096, 10240, 10240, 4, drained=n in self.drained
            )
            for n in self.node_names
        ]

    def instances(self) -> list[InstanceInfo]:
        self._call("instances")
        return list(self.vms.values())

    def instance(self, name: str) -> InstanceInfo:
        self._call("instance", name)
        return self._existing(name)

    def networks(self) -> list[str]:
        self._call("networks")
        return []

    def console(self, name: str) -> ConsoleInfo:
        self._call("console", name)
        info = self._existing(name)
        return ConsoleInfo("vnc", info.primary_node, 5900 + len(name), password="console-secret")

    # --- lifecycle ------------------------------------------------------------------------------
    def create(self, spec: CreateSpec) -> str:
        if spec.name in self.vms:
            message = f"OpPrereqError: Instance '{spec.name}' is already in the cluster"
            self._scripts.appendleft((Step(JobState.QUEUED), Step(JobState.ERROR, error=message)))
            return self._submit("create", spec.name, lambda: None, must_exist=False)

        def provisional() -> None:
            disks = tuple(DiskInfo(d.size_mb, d.template or spec.disk_template, d.name) for d in spec.disks)
            nics = tuple(NicInfo(n.mac or self._mac(), n.ip, n.network, n.link, n.name) for n in spec.nics)
            node = spec.primary_node or self.node_names[0]
            secondary = (spec.secondary_node,) if spec.secondary_node else ()
            self.vms[spec.name] = InstanceInfo(
                spec.name, node, secondary, PowerState.STOPPED, False, spec.vcpus, spec.memory_mb,
                spec.disk_template, disks, nics, spec.os or "noop", self.clock,
            )  # fmt: skip

        def built() -> None:
            power = PowerState.RUNNING if spec.start else PowerState.STOPPED
            self._update(spec.name, power=power, admin_up=spec.start)

        def failed() -> None:
            self.vms.pop(spec.name, None)

        return self._submit("create", spec.name, built, failed, must_exist=False, prepare=provisional)

    def _op(self, op: str, name: str, **fields) -> str:
        return self._submit(op, name, lambda: self._update(name, **fields))

    def start(self, name: str) -> str:
        return self._op("start", name, power=PowerState.RUNNING, admin_up=True)

    def stop(self, name: str, *, timeout: int | None = None) -> str:
        return self._op("stop", name, power=PowerState.STOPPED, admin_up=False)

    def reboot(self, name: str, *, hard: bool = False) -> str:
        return self._op("reboot", name, power=PowerState.RUNNING)

    def destroy(self, name: str) -> str:
        return self._submit("destroy", name, lambda: self.vms.pop(name, None))

    def resize(self, name: str, *, vcpus: int, memory_mb: int) -> str:
        return self._op("resize", name, vcpus=vcpus, memory_mb=memory_mb)

    def add_disk(self, name: str, disk: DiskSpec) -> str:
        def add() -> None:
            info = self.vms[name]
            new = DiskInfo(disk.size_mb, disk.template or info.disk_template, disk.name)
            self._update(name, disks=(*info.disks, new))

        return self._submit("add_disk", name, add)

    def remove_disk(self, name: str, index: int) -> str:
        disks = lambda: tuple(d for i, d in enumerate(self.vms[name].disks) if i != index)  # noqa: E731
        return self._submit("remove_disk", name, lambda: self._update(name, disks=disks()))

    def attach_disk(self, name: str, disk_name: str) -> str:
        def attach() -> None:
            disk = self.detached.pop(disk_name)
            self._update(name, disks=(*self.vms[name].disks, disk))

        def check() -> None:
            if disk_name not in self.detached:
                raise NotFound(404, f"Lookup of disk '{disk_name}' failed", cluster=self.name)

        return self._submit("attach_disk", name, attach, prepare=check)

    def detach_disk(self, name: str, disk_name: str) -> str:
        def detach() -> None:
            disks = self.vms[name].disks
            self.detached[disk_name] = next(d for d in disks if d.name == disk_name)
            self._update(name, disks=tuple(d for d in disks if d.name != disk_name))

        return self._submit("detach_disk", name, detach)

    def delete_detached_disk(self, name: str, disk_name: str) -> str:
        return self._submit("delete_detached_disk", name, lambda: self.detached.pop(disk_name, None))

    def grow_disk(self, name: str, index: int, amount_mb: int) -> str:

        def grow() -> None:
            disks = list(self.vms[name].disks)
            disks[index] = replace(disks[index], size_mb=disks[index].size_mb + amount_mb)
            self._update(name, disks=tuple(disks))

        return self._submit("grow_disk", name, grow)

    def add_nic(self, name: str, nic: NicSpec) -> str:
        new = NicInfo(nic.mac or self._mac(), nic.ip, nic.network, nic.link, nic.name)
        return self._submit("add_nic", name, lambda: self._update(name, nics=(*self.vms[name].nics, new)))

    def remove_nic(self, name: str, index: int) -> str:
        nics = lambda: tuple(n for i, n in enumerate(self.vms[name].nics) if i != index)  # noqa: E731
        return self._submit("remove_nic", name, lambda: self._update(name, nics=nics()))

    def _move(self, name: str, target_node: str | None) -> None:
        info = self.vms[name]
        target = target_node or (info.secondary_nodes[0] if info.secondary_nodes else None)
        target = target or next(n for n in self.node_names if n != info.primary_node)
        secondary = (info.primary_node,) if info.secondary_nodes else ()
        self._update(name, primary_node=target, secondary_nodes=secondary)

    def migrate(self, name: str, *, target_node: str | None = None, live: bool = True) -> str:
        return self._submit("migrate", name, lambda: self._move(name, target_node))

    def failover(self, name: str, *, target_node: str | None = None) -> str:
        return self._submit("failover", name, lambda: self._move(name, target_node))

    def change_disk_template(self, name: str, template: str, *, secondary_node: str | None = None) -> str:
        secondary = (secondary_node,) if secondary_node else ()
        return self._op("change_disk_template", name, disk_template=template, secondary_nodes=secondary)

    def evacuate_node(self, node: str, *, mode: str = "all") -> str:
        def evacuate() -> None:
            for info in list(self.vms.values()):
                if info.primary_node == node:
                    self._move(info.name, None)

        return self._submit("evacuate_node", node, evacuate, must_exist=False)

    def set_node_drained(self, node: str, drained: bool) -> str:
        def drain() -> None:
            if drained:
                self.drained.add(node)
            else:
                self.drained.discard(node)

        return self._submit("set_node_drained", node, drain, must_exist=False)

    # --- jobs -----------------------------------------------------------------------------------
    def job(self, job_id: str) -> JobStatus:
        self._call("job", job_id)
        if job_id not in self.jobs:
            raise NotFound(404, f"Job {job_id} not found", cluster=self.name)
        return self.jobs[job_id].status

    def wait_job(self, job_id: str, *, previous: JobStatus | None, timeout: float) -> JobStatus:
        self.waits += 1
        if self.crash_on_wait == self.waits:
            raise SimulatedCrash(f"worker killed while waiting for job {job_id}")
        if self.unreachable_on_wait == self.waits:
            self.unreachable_on_wait = None
            raise ClusterUnreachable("connection timed out", cluster=self.name)
        if self.unreachable:
            raise ClusterUnreachable("connection refused", cluster=self.name)
        if job_id not in self.jobs:
            raise NotFound(404, f"Job {job_id} not found", cluster=self.name)
        self.calls.append(("wait_job", job_id))
        if previous is not None:
            self.tick()
        return self.jobs[job_id].status

    def cancel_job(self, job_id: str) -> bool:
        self._call("cancel_job", job_id)
        job = self.jobs[job_id]
        if job.status.state not in (JobState.QUEUED, JobState.WAITING):
            return False
        job.steps = (*job.steps[: job.position + 1], Step(JobState.CANCELED, error="Job canceled by request"))
        job.effect = lambda: None
        self._advance(job, job.position + 1)
        return True

    def disk_data_supported(self) -> bool:
        """Like Ganeti: no disk bytes (the embedded host's data plane is tested on a real agent)."""
        return False

    def read_disk(self, name: str, disk: int | str):
        raise NotSupported("the fake cluster has no disk data (like Ganeti's RAPI)", cluster=self.name)

    def write_disk(self, name: str, disk: int | str, chunks, *, size: int) -> int:
        raise NotSupported("the fake cluster has no disk data (like Ganeti's RAPI)", cluster=self.name)

    def close(self) -> None:
        pass


class FakeCloud:
    """Every fake cluster by name; `driver_for` stands in for the registry's."""

    def __init__(self) -> None:
        self.clusters: dict[str, FakeCluster] = {}

    def cluster(self, name: str) -> FakeCluster:
        """The fake cluster called `name` (made on first use)."""
        return self.clusters.setdefault(name, FakeCluster(name))

    def driver_for(self, cluster) -> FakeCluster:
        """The driver the services get for a cluster row."""
        return self.cluster(cluster.name)


def install(monkeypatch) -> FakeCloud:
    """Route every driver lookup to a fresh `FakeCloud`."""
    cloud = FakeCloud()
    monkeypatch.setattr(registry, "driver_for", cloud.driver_for)
    return cloud
