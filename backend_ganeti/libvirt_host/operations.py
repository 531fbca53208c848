"""The bodies of the agent's jobs, one per Ganeti-style opcode, with realistic timed steps.

Each body logs what it does, pauses for the configured delay (with progress where Ganeti would
report some), and changes the host through `Host`'s atomic methods. A body fails its job by
raising `JobError`; libvirt, file-system and lookup errors are turned into one in `run`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libvirt

from backend_ganeti.libvirt_host.errors import AgentError, JobError
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.jobs import JobContext
from backend_ganeti.libvirt_host.records import DiskRecord, DomainRecord, NicRecord

OP_CREATE = "OP_INSTANCE_CREATE"
OP_STARTUP = "OP_INSTANCE_STARTUP"
OP_SHUTDOWN = "OP_INSTANCE_SHUTDOWN"
OP_REBOOT = "OP_INSTANCE_REBOOT"
OP_REMOVE = "OP_INSTANCE_REMOVE"
OP_SET_PARAMS = "OP_INSTANCE_SET_PARAMS"
OP_GROW_DISK = "OP_INSTANCE_GROW_DISK"
OP_MIGRATE = "OP_INSTANCE_MIGRATE"
OP_FAILOVER = "OP_INSTANCE_FAILOVER"
OP_NODE_EVACUATE = "OP_NODE_EVACUATE"
OP_NODE_SET_PARAMS = "OP_NODE_SET_PARAMS"


@dataclass(frozen=True)
class Delays:
    """Seconds each kind of step takes on the simulated host (0 for real nodes by default)."""

    build: float = 3.0
    power: float = 1.0
    migrate: float = 2.0
    shutdown_timeout: float = 120.0


class Operations:
    """Runs jobs against one `Host`; `run` is the JobQueue's body callable."""

    def __init__(self, host: Host, delays: Delays) -> None:
        """Bind to the host; the opcode table is explicit (no lookup by method name)."""
        self.host = host
        self.delays = delays
        self._bodies: dict[str, Callable[[JobContext], Any]] = {
            OP_CREATE: self.create,
            OP_STARTUP: self.startup,
            OP_SHUTDOWN: self.shutdown,
            OP_REBOOT: self.reboot,
            OP_REMOVE: self.remove,
            OP_SET_PARAMS: self.set_params,
            OP_GROW_DISK: self.grow_disk,
            OP_MIGRATE: self.migrate,
            OP_FAILOVER: self.failover,
            OP_NODE_EVACUATE: self.evacuate,
            OP_NODE_SET_PARAMS: self.set_node_params,
        }

    def run(self, ctx: JobContext) -> Any:
        """Execute one job; every expected failure becomes a JobError with a readable message."""
        body = self._bodies.get(ctx.operation)
        if body is None:
            raise JobError(f"unknown operation {ctx.operation}")
        try:
            return body(ctx)
        except libvirt.libvirtError as exc:
            raise JobError(f"libvirt: {exc.get_error_message() or exc}") from None
        except AgentError as exc:
            raise JobError(exc.message) from None
        except OSError as exc:
            raise JobError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None

    # --- instance lifecycle ---------------------------------------------------------------
    def create(self, ctx: JobContext) -> dict[str, Any]:
        """Place, define, allocate disks (the build delay), then start unless asked not to."""
        p = ctx.params
        disks = [DiskRecord(size_mb=d["size_mb"], disk_id=i, name=d.get("name", "")) for i, d in enumerate(p["disks"])]
        record = DomainRecord(
            name=p["name"],
            uuid="",
            node="",
            vcpus=p["vcpus"],
            memory_mb=p["memory_mb"],
            disk_template=p["disk_template"],
            disks=disks,
            nics=[NicRecord(**nic) for nic in p["nics"]],
            os=p.get("os", ""),
            os_params=p.get("os_params", {}),
            hv_params=p.get("hv_params", {}),
            tags=list(p.get("tags", [])),
            next_disk_id=len(disks),
        )
        ctx.log(f"placing {record.name}: {record.vcpus} vCPU, {record.memory_mb} MiB memory, {record.disk_mb} MiB disk")
        ctx.log("defining domain")
        self.host.define_new(record, node=p.get("node"))
        ctx.log(f"domain {record.name} defined on node {record.node}")
        try:
            ctx.progress(0)
            ctx.log(f"allocating disks ({record.disk_mb} MiB, template {record.disk_template})")
            self.host.sync_disk_files(record)
            ctx.pause(self.delays.build, start=0, end=100)
            ctx.log("disks allocated")
            if p.get("start", True):
                ctx.log("starting domain")
                ctx.pause(self.delays.power)
                self.host.power_on(record.name)
            self.host.set_admin_up(record.name, bool(p.get("start", True)), building=False)
        except (JobError, AgentError, libvirt.libvirtError, OSError):
            ctx.log(f"build failed; removing {record.name}", kind="error")
            self.host.remove(record.name)
            raise
        ctx.log(f"instance {record.name} is {'running' if p.get('start', True) else 'stopped'} on {record.node}")
        return {"node": record.node}

    def startup(self, ctx: JobContext) -> dict[str, Any]:
        """Power on (a no-op when running, as in Ganeti)."""
        record = self.host.record(ctx.target)
        ctx.log(f"starting {record.name} on {record.node}")
        ctx.pause(self.delays.power)
        self.host.power_on(record.name)
        self.host.set_admin_up(record.name, True)
        ctx.log(f"{record.name} is running")
        return {"node": record.node}

    def shutdown(self, ctx: JobContext) -> dict[str, Any]:
        """ACPI shutdown; power off after the timeout if the guest ignores it."""
        record = self.host.record(ctx.target)
        timeout = ctx.params.get("timeout")
        timeout = self.delays.shutdown_timeout if timeout is None else float(timeout)
        ctx.log(f"shutting down {record.name} (timeout {timeout:g} s)")
        ctx.pause(self.delays.power)
        self.host.request_shutdown(record.name)
        deadline = time.monotonic() + timeout
        while self.host.is_running(record.name) and time.monotonic() < deadline:
            time.sleep(0.5)
        if self.host.is_running(record.name):
            ctx.log(f"{record.name} did not stop within {timeout:g} s; forcing power off")
            self.host.power_off(record.name)
        self.host.set_admin_up(record.name, False)
        ctx.log(f"{record.name} is stopped")
        return {"node": record.node}

    def reboot(self, ctx: JobContext) -> dict[str, Any]:
        """Soft or hard reboot of a running instance."""
        record = self.host.record(ctx.target)
        if not record.admin_up or not self.host.is_running(record.name):
            raise JobError(f"instance {record.name} is not running")
        hard = bool(ctx.params.get("hard"))
        ctx.log(f"{'hard' if hard else 'soft'} reboot of {record.name}")
        ctx.pause(self.delays.power)
        self.host.reboot(record.name, hard=hard)
        ctx.log(f"{record.name} rebooted")
        return {"node": record.node}

    def remove(self, ctx: JobContext) -> dict[str, Any]:
        """Power off, undefine, delete disks."""
        record = self.host.record(ctx.target)
        ctx.log(f"removing {record.name} from {record.node}")
        if self.host.is_running(record.name):
            ctx.log("stopping the domain")
        ctx.pause(self.delays.power)
        self.host.remove(record.name)
        ctx.log(f"{record.name} removed")
        return {"node": record.node}

    # --- modifications --------------------------------------------------------------------
    def set_params(self, ctx: JobContext) -> dict[str, Any]:
        """Resize and add/remove disks and NICs (applied at the next start on a running domain)."""
        p = ctx.params
        changes: list[str] = []
        with self.host.lock:
            record = self.host.record(ctx.target)
            free = self.host.usage()[record.node]
            memory = p.get("memory_mb", record.memory_mb)
            added = p.get("disk_add")
            if memory - record.memory_mb > free.memory_free_mb:
                raise JobError(
                    f"not enough memory on node {record.node}: needed {memory - record.memory_mb} MiB more, "
                    f"free {free.memory_free_mb} MiB"
                )
            if added and record.disk_template == "diskless":
                raise JobError("a diskless instance cannot have disks")
            if added and added["size_mb"] > free.disk_free_mb:
                raise JobError(
                    f"not enough disk space on node {record.node}: needed {added['size_mb']} MiB, "
                    f"free {free.disk_free_mb} MiB"
                )
            removed: list[DiskRecord] = []
            if "disk_remove" in p:
                if not 0 <= p["disk_remove"] < len(record.disks):
                    raise JobError(f"instance {record.name} has no disk {p['disk_remove']}")
                if len(record.disks) == 1 and not added:
                    raise JobError("cannot remove the last disk of an instance")
            if "nic_remove" in p and not 0 <= p["nic_remove"] < len(record.nics):
                raise JobError(f"instance {record.name} has no NIC {p['nic_remove']}")
            if "vcpus" in p or "memory_mb" in p:
                record.vcpus, record.memory_mb = p.get("vcpus", record.vcpus), memory
                changes.append(f"vcpus={record.vcpus} memory={record.memory_mb} MiB")
            if "disk_remove" in p:
                removed.append(record.disks.pop(p["disk_remove"]))
                changes.append(f"disk/{p['disk_remove']} removed")
            if added:
                record.disks.append(
                    DiskRecord(size_mb=added["size_mb"], disk_id=record.next_disk_id, name=added["name"])
                )
                record.next_disk_id += 1
                changes.append(f"disk/{len(record.disks) - 1} added ({added['size_mb']} MiB)")
            if p.get("disk_detach"):
                self.host.take_disk(record, p["disk_detach"])
                changes.append(f"disk {p['disk_detach']} detached (kept)")
            if p.get("disk_attach"):
                self.host.give_disk(record, p["disk_attach"])
                changes.append(f"disk {p['disk_attach']} attached as disk/{len(record.disks) - 1}")
            if p.get("disk_delete_detached"):
                self.host.delete_detached(p["disk_delete_detached"])
                changes.append(f"detached disk {p['disk_delete_detached']} deleted")
            if "nic_remove" in p:
                record.nics.pop(p["nic_remove"])
                changes.append(f"nic/{p['nic_remove']} removed")
            if p.get("nic_add"):
                nic = NicRecord(**p["nic_add"])
                nic.mac = nic.mac or self.host.new_mac()
                record.nics.append(nic)
                changes.append(f"nic/{len(record.nics) - 1} added ({nic.mac})")
            self.host.update(record, removed_disks=removed)
        for change in changes:
            ctx.log(f"modified {record.name}: {change}")
        ctx.pause(self.delays.power / 2)
        return {"changes": changes}

    def grow_disk(self, ctx: JobContext) -> dict[str, Any]:
        """Grow one disk by `amount_mb`."""
        index, amount = ctx.params["index"], ctx.params["amount_mb"]
        with self.host.lock:
            record = self.host.record(ctx.target)
            if not 0 <= index < len(record.disks):
                raise JobError(f"instance {record.name} has no disk {index}")
            free = self.host.usage()[record.node].disk_free_mb
            if amount > free:
                raise JobError(f"not enough disk space on node {record.node}: needed {amount} MiB, free {free} MiB")
            record.disks[index].size_mb += amount
            self.host.update(record)
            size = record.disks[index].size_mb
        ctx.log(f"growing disk/{index} of {record.name} by {amount} MiB")
        ctx.pause(self.delays.power, start=0, end=100)
        ctx.log(f"disk/{index} is now {size} MiB")
        return {"size_mb": size}

    # --- moves ----------------------------------------------------------------------------
    def _target(self, record: DomainRecord, wanted: str | None) -> str:
        if wanted == record.node:
            raise JobError(f"instance {record.name} is already on node {wanted}")
        return self.host.choose(memory_mb=record.memory_mb, disk_mb=record.disk_mb, node=wanted, exclude=(record.node,))

    def _move(self, record: DomainRecord, target: str, *, live: bool, cold: bool) -> None:
        """Move one instance (checked again for capacity at the switch-over)."""
        with self.host.lock:
            self.host.choose(memory_mb=record.memory_mb, disk_mb=record.disk_mb, node=target)
            if cold or self.host.node(record.node).simulated or not self.host.is_running(record.name):
                self.host.relocate(record.name, target)
            else:
                self.host.live_migrate(record.name, target, live=live)

    def migrate(self, ctx: JobContext) -> dict[str, Any]:
        """Live (or non-live) migration of a running instance."""
        record = self.host.record(ctx.target)
        if not self.host.is_running(record.name):
            raise JobError(f"instance {record.name} is not running, cannot migrate")
        live = bool(ctx.params.get("live", True))
        source, target = record.node, self._target(record, ctx.params.get("target_node"))
        ctx.log(f"migrating {record.name} from {source} to {target} ({'live' if live else 'non-live'})")
        ctx.pause(self.delays.migrate, start=0, end=100)
        self._move(record, target, live=live, cold=False)
        ctx.log(f"{record.name} now runs on {target}")
        return {"node": target, "source": source}

    def failover(self, ctx: JobContext) -> dict[str, Any]:
        """Stop on the source node, start on the target (disks are treated as shared storage)."""
        record = self.host.record(ctx.target)
        source, target = record.node, self._target(record, ctx.params.get("target_node"))
        ctx.log(f"failing over {record.name} from {source} to {target}")
        ctx.pause(self.delays.power)
        self._move(record, target, live=False, cold=True)
        ctx.log(f"{record.name} is on {target} ({'running' if record.admin_up else 'stopped'})")
        return {"node": target, "source": source}

    # --- nodes ----------------------------------------------------------------------------
    def evacuate(self, ctx: JobContext) -> dict[str, Any]:
        """Move every primary instance off the node (there are no secondaries on this host)."""
        node = ctx.target
        self.host.node(node)
        if ctx.params.get("mode", "all") == "secondary-only":
            ctx.log("a libvirt host has no secondary instances; nothing to move")
            return {"moved": {}, "failed": {}}
        with self.host.lock:
            names = sorted(name for name, record in self.host.records.items() if record.node == node)
        ctx.log(f"evacuating {len(names)} instance(s) from {node}")
        moved: dict[str, str] = {}
        failed: dict[str, str] = {}
        for done, name in enumerate(names):
            record = self.host.record(name)
            try:
                target = self._target(record, None)
                ctx.log(f"moving {name} to {target}")
                ctx.pause(self.delays.migrate / 2)
                self._move(record, target, live=True, cold=False)
                moved[name] = target
            except (JobError, libvirt.libvirtError) as exc:
                failed[name] = str(exc)
                ctx.log(f"cannot move {name}: {exc}", kind="error")
            ctx.progress((done + 1) * 100 // len(names))
        if failed:
            raise JobError(f"could not evacuate {', '.join(sorted(failed))} from {node}: " + "; ".join(failed.values()))
        return {"moved": moved, "failed": failed}

    def set_node_params(self, ctx: JobContext) -> dict[str, Any]:
        """Drain or undrain a node."""
        drained = bool(ctx.params["drained"])
        self.host.set_drained(ctx.target, drained)
        ctx.log(f"node {ctx.target} {'drained' if drained else 'undrained'}")
        return {"node": ctx.target, "drained": drained}
