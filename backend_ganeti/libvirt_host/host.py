"""The host's domains across its nodes: every libvirt call and every state-dir write for domains.

`Host` keeps the `DomainRecord`s in memory, mirrors each change into libvirt and the store under
one lock, and answers queries. Each method is quick and atomic; the timed parts of jobs (build,
boot, migration delays) happen in `operations.py` outside the lock. On a simulated node a move is
undefine on the source + define (and start) on the target; on a real node a running domain is
moved with virDomainMigrate (live unless asked otherwise; not exercised by the test suite).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import libvirt

from backend_ganeti.libvirt_host.domxml import render_domain
from backend_ganeti.libvirt_host.errors import ConflictError, JobError, NotFoundError
from backend_ganeti.libvirt_host.nodes import HostNode
from backend_ganeti.libvirt_host.placement import (
    NodeCapacity,
    NodeUsage,
    PlacementError,
    choose_node,
    usage_by_node,
)
from backend_ganeti.libvirt_host.records import DiskRecord, DomainRecord
from backend_ganeti.libvirt_host.store import StateStore

log = logging.getLogger(__name__)

_RUNNING_STATES = (
    libvirt.VIR_DOMAIN_RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN,
    libvirt.VIR_DOMAIN_PMSUSPENDED,
)


class Host:
    """Domains, nodes and their persistence; thread-safe through `lock`."""

    def __init__(self, nodes: list[HostNode], store: StateStore, *, disk_dir: Path, vnc_ports: range) -> None:
        """`disk_dir` holds file-template disks of real nodes; `vnc_ports` the simulated consoles."""
        self.nodes = {node.name: node for node in nodes}
        self.store = store
        self.disk_dir = disk_dir
        self.vnc_ports = vnc_ports
        self.lock = threading.RLock()
        self.records: dict[str, DomainRecord] = {}
        self.flags = store.load_node_flags()
        self.detached = store.load_detached()

    # --- lookups ---------------------------------------------------------------------------
    def node(self, name: str) -> HostNode:
        """The node called `name`; NotFoundError otherwise."""
        if name not in self.nodes:
            raise NotFoundError(f"node {name!r} does not exist")
        return self.nodes[name]

    def record(self, name: str) -> DomainRecord:
        """The record of instance `name`; NotFoundError otherwise."""
        record = self.records.get(name)
        if record is None:
            raise NotFoundError(f"instance {name!r} does not exist")
        return record

    def drained(self, node: str) -> bool:
        """True when the node takes no new instances."""
        return bool(self.flags.get(node, {}).get("drained", False))

    def capacities(self) -> list[NodeCapacity]:
        """Totals and flags of every node."""
        return [
            NodeCapacity(
                name=node.name,
                memory_mb=node.memory_mb,
                disk_mb=node.disk_mb,
                cpus=node.cpus,
                drained=self.drained(node.name),
                offline=not node.alive(),
            )
            for node in self.nodes.values()
        ]

    def usage(self) -> dict[str, NodeUsage]:
        """Per-node usage accounted from the records."""
        with self.lock:
            return usage_by_node(self.capacities(), self.records.values())

    def choose(self, *, memory_mb: int, disk_mb: int, node: str | None = None, exclude: tuple[str, ...] = ()) -> str:
        """A node for `memory_mb`/`disk_mb`; JobError with the reason when none fits."""
        with self.lock:
            try:
                return choose_node(
                    self.capacities(), self.usage(), memory_mb=memory_mb, disk_mb=disk_mb, node=node, exclude=exclude
                )
            except PlacementError as exc:
                raise JobError(str(exc)) from None

    def _domain(self, record: DomainRecord) -> libvirt.virDomain:
        return self.node(record.node).conn.lookupByName(record.name)

    def power(self, name: str) -> str:
        """running / stopped / error, as libvirt reports the domain now."""
        with self.lock:
            record = self.record(name)
            try:
                state = self._domain(record).state()[0]
            except libvirt.libvirtError:
                return "error"
        if state in _RUNNING_STATES:
            return "running"
        return "error" if state == libvirt.VIR_DOMAIN_CRASHED else "stopped"

    def is_running(self, name: str) -> bool:
        """True while libvirt says the domain runs."""
        return self.power(name) == "running"

    def live_xml(self, name: str) -> tuple[DomainRecord, HostNode, str]:
        """The record, its node and libvirt's live XML of the domain."""
        with self.lock:
            record = self.record(name)
            return record, self.node(record.node), self._domain(record).XMLDesc(0)

    # --- persistence helpers ----------------------------------------------------------------
    def disk_path(self, name: str, disk: DiskRecord) -> str:
        """Where a file-template disk lives (a sparse file, on simulated nodes too)."""
        return str(self.disk_dir / name / f"disk-{disk.disk_id}.img")

    def _render(self, record: DomainRecord) -> str:
        node = self.node(record.node)
        return render_domain(record, domain_type=node.domain_type, disk_path=lambda d: self.disk_path(record.name, d))

    def _save(self, record: DomainRecord) -> str:
        record.mtime = time.time()
        xml = self._render(record)
        self.store.save_domain(record, xml)
        return xml

    def sync_disk_files(self, record: DomainRecord) -> None:
        """Create missing sparse raw disk files (mode 0600) and grow them to their sizes.

        Simulated nodes keep them too (sparse: no space is used until bytes are written), so the
        data plane (`diskdata.py`: snapshots, volumes filled from images) works on the demo host.
        """
        if record.disk_template != "file":
            return
        for disk in record.disks:
            path = Path(self.disk_path(record.name, disk))
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < disk.size_mb * 1024 * 1024:
                    os.ftruncate(fd, disk.size_mb * 1024 * 1024)
            finally:
                os.close(fd)

    def _delete_disk_files(self, record: DomainRecord, disks: list[DiskRecord]) -> None:
        for disk in disks:
            Path(self.disk_path(record.name, disk)).unlink(missing_ok=True)
        instance_dir = self.disk_dir / record.name
        if instance_dir.is_dir() and not any(instance_dir.iterdir()):
            instance_dir.rmdir()

    def _free_vnc_port(self) -> int:
        used = {record.vnc_port for record in self.records.values()}
        for port in self.vnc_ports:
            if port not in used:
                return port
        return 0

    def new_mac(self) -> str:
        """A random locally administered QEMU MAC (52:54:00:...) not used by any instance."""
        used = {nic.mac for record in self.records.values() for nic in record.nics}
        while True:
            mac = "52:54:00:" + ":".join(f"{random.getrandbits(8):02x}" for _ in range(3))
            if mac not in used:
                return mac

    # --- changes ---------------------------------------------------------------------------
    def define_new(self, record: DomainRecord, *, node: str | None) -> DomainRecord:
        """Place, define and persist a new instance (still `building`, powered off)."""
        with self.lock:
            if record.name in self.records:
                raise JobError(f"instance {record.name!r} already exists")
            record.node = self.choose(memory_mb=record.memory_mb, disk_mb=record.disk_mb, node=node)
            record.uuid = record.uuid or str(uuid.uuid4())
            record.vnc_port = self._free_vnc_port()
            record.ctime = time.time()
            for nic in record.nics:
                nic.mac = nic.mac or self.new_mac()
            # Persisted first: a crash before libvirt has it leaves a `building` record that the
            # next start rolls back, never a domain the agent does not know about.
            xml = self._save(record)
            self.records[record.name] = record
            try:
                self.node(record.node).conn.defineXML(xml)
            except libvirt.libvirtError:
                del self.records[record.name]
                self.store.delete_domain(record.name)
                raise
            return record

    def update(self, record: DomainRecord, *, removed_disks: Sequence[DiskRecord] = ()) -> None:
        """Persist and re-define a changed record (the running domain keeps its live config)."""
        with self.lock:
            xml = self._save(record)
            self.node(record.node).conn.defineXML(xml)
            self.sync_disk_files(record)
            self._delete_disk_files(record, list(removed_disks))

    # --- detached disks (kept when a volume leaves its instance) -------------------------------
    def detached_path(self, disk_name: str) -> Path:
        """Where a detached file-template disk is kept."""
        return self.disk_dir / "_detached" / f"{disk_name}.img"

    def take_disk(self, record: DomainRecord, disk_name: str) -> DiskRecord:
        """Detach disk `disk_name` from `record` (call `update` next): its file moves aside, kept."""
        with self.lock:
            index = next((i for i, d in enumerate(record.disks) if d.name == disk_name), None)
            if index is None:
                raise JobError(f"instance {record.name} has no disk named {disk_name}")
            disk = record.disks.pop(index)
            if record.disk_template == "file":
                source = Path(self.disk_path(record.name, disk))
                target = self.detached_path(disk_name)
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                if source.exists():
                    os.replace(source, target)
            self.detached[disk_name] = {"size_mb": disk.size_mb}
            self.store.save_detached(self.detached)
            return disk

    def give_disk(self, record: DomainRecord, disk_name: str) -> DiskRecord:
        """Attach the detached disk `disk_name` to `record` as its last disk (call `update` next)."""
        with self.lock:
            kept = self.detached.get(disk_name)
            if kept is None:
                raise JobError(f"no detached disk named {disk_name}")
            if record.disk_template == "diskless":
                raise JobError("a diskless instance cannot have disks")
            disk = DiskRecord(size_mb=int(kept["size_mb"]), disk_id=record.next_disk_id, name=disk_name)
            record.next_disk_id += 1
            source = self.detached_path(disk_name)
            if source.exists():
                target = Path(self.disk_path(record.name, disk))
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
            record.disks.append(disk)
            del self.detached[disk_name]
            self.store.save_detached(self.detached)
            return disk

    def delete_detached(self, disk_name: str) -> None:
        """Delete a detached disk and its file."""
        with self.lock:
            if self.detached.pop(disk_name, None) is None:
                raise JobError(f"no detached disk named {disk_name}")
            self.detached_path(disk_name).unlink(missing_ok=True)
            self.store.save_detached(self.detached)

    def set_admin_up(self, name: str, admin_up: bool, *, building: bool | None = None) -> None:
        """Record the desired power state (and the end of a build)."""
        with self.lock:
            record = self.record(name)
            record.admin_up = admin_up
            if building is not None:
                record.building = building
            self._save(record)

    def power_on(self, name: str) -> None:
        """Start the domain unless it runs."""
        with self.lock:
            domain = self._domain(self.record(name))
            if not domain.isActive():
                domain.create()

    def request_shutdown(self, name: str) -> None:
        """ACPI shutdown (immediate on the test driver)."""
        with self.lock:
            domain = self._domain(self.record(name))
            if domain.isActive():
                domain.shutdown()

    def power_off(self, name: str) -> None:
        """Pull the plug."""
        with self.lock:
            domain = self._domain(self.record(name))
            if domain.isActive():
                domain.destroy()

    def reboot(self, name: str, *, hard: bool) -> None:
        """Guest reboot, or reset when `hard`."""
        with self.lock:
            domain = self._domain(self.record(name))
            if hard:
                domain.reset(0)
            else:
                domain.reboot(0)

    def remove(self, name: str) -> None:
        """Power off, undefine and forget the instance (and its disk files on a real node)."""
        with self.lock:
            record = self.record(name)
            try:
                domain = self._domain(record)
            except libvirt.libvirtError:
                domain = None  # never defined (e.g. a failed restore): forget the record anyway
            if domain is not None:
                if domain.isActive():
                    domain.destroy()
                domain.undefine()
            self._delete_disk_files(record, record.disks)
            self.store.delete_domain(name)
            del self.records[name]

    def relocate(self, name: str, target: str) -> None:
        """Move the definition to `target` (stop on the source, start on the target if it ran)."""
        with self.lock:
            record = self.record(name)
            source = self._domain(record)
            was_active = bool(source.isActive())
            if was_active:
                source.destroy()
            source.undefine()
            record.node = target
            xml = self._save(record)
            moved = self.node(target).conn.defineXML(xml)
            if was_active:
                moved.create()

    def live_migrate(self, name: str, target: str, *, live: bool) -> None:
        """virDomainMigrate a running domain between real nodes (shared storage assumed)."""
        with self.lock:
            record = self.record(name)
            flags = libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
            if live:
                flags |= libvirt.VIR_MIGRATE_LIVE
            self._domain(record).migrate(self.node(target).conn, flags, None, None, 0)
            record.node = target
            self._save(record)

    def set_drained(self, node: str, drained: bool) -> None:
        """Persist a node's drained flag."""
        with self.lock:
            self.node(node)
            self.flags.setdefault(node, {})["drained"] = drained
            self.store.save_node_flags(self.flags)

    def check_name_free(self, name: str) -> None:
        """ConflictError when an instance called `name` exists."""
        if name in self.records:
            raise ConflictError(f"instance {name!r} already exists")

    # --- start-up ----------------------------------------------------------------------------
    def restore(self) -> list[str]:
        """Re-define every persisted domain and restore its power state; returns dropped builds.

        A record still marked `building` belongs to a create the agent was killed in; it is
        removed, and the create job is reported as interrupted.
        """
        dropped = []
        with self.lock:
            for record, xml in self.store.load_domains():
                if record.node not in self.nodes:
                    log.warning("instance %s was on unknown node %s; placing it again", record.name, record.node)
                    record.node = min(self.nodes)
                    xml = ""
                self.records[record.name] = record
                if record.building:
                    self._drop_partial(record)
                    dropped.append(record.name)
                    continue
                try:
                    domain = self.node(record.node).conn.defineXML(xml or self._render(record))
                    if record.admin_up and not domain.isActive():
                        domain.create()
                except libvirt.libvirtError as exc:
                    log.error("cannot restore instance %s on %s: %s", record.name, record.node, exc)
        return dropped

    def _drop_partial(self, record: DomainRecord) -> None:
        try:
            self.remove(record.name)
        except libvirt.libvirtError as exc:
            log.error("cannot remove the partial instance %s: %s", record.name, exc)
            self.records.pop(record.name, None)
            self.store.delete_domain(record.name)
