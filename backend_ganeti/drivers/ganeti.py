"""The `ClusterDriver` of a Ganeti cluster, on the typed RAPI v2 client.

`GanetiDriver` turns the driver's calls into RAPI requests (write methods return Ganeti's job
id as a string) and RAPI's answers into the value types of `drivers/types.py`, through the pure
functions of `drivers/ganeti_mapping.py`. It keeps no state besides the client: no database, no
cache. RAPI failures propagate as the `RapiError` family (`NotFound`, `BadRequest`,
`ClusterUnreachable`, `ServiceUnavailable`...), the shared error vocabulary of every driver; a
job that fails is not an exception but a `JobStatus` in state ``error`` with Ganeti's reason.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from backend_ganeti.drivers.ganeti_mapping import disk_params, instance_info, job_status, nic_params
from backend_ganeti.drivers.types import (
    ClusterSummary,
    ConsoleInfo,
    CreateSpec,
    DiskData,
    DiskSpec,
    InstanceInfo,
    JobState,
    JobStatus,
    NicSpec,
    NodeGroupInfo,
    NodeInfo,
)
from backend_ganeti.rapi.client import RapiClient
from backend_ganeti.rapi.errors import GanetiApiError, NotSupported, ServiceUnavailable
from backend_ganeti.rapi.models import InstanceSpec

if TYPE_CHECKING:
    from backend_ganeti.models import Cluster

# The lab's no-op OS definition; production sets GANETI_DEFAULT_OS to a real one.
DEFAULT_OS = "noop"
# Fields asked of the job long-poll: the status is what "changed" means (plus new log lines).
WAIT_FIELDS = ("status",)
# Wildcard VNC bind addresses: the console then listens on the primary node itself.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (recognised, not bound)
# Why disk bytes cannot be read or written through this driver.
NO_DISK_DATA = (
    "Ganeti's RAPI has no call to read or write a disk's bytes, so this cluster cannot snapshot a disk "
    "(createImage) or fill a volume from an image"
)
# Ganeti's constants.VNC_BASE_PORT: a kvm instance's VNC display is network_port - 5900.
VNC_BASE_PORT = 5900


class GanetiDriver:
    """`ClusterDriver` for one Ganeti cluster, reached through its RAPI."""

    def __init__(self, client: RapiClient, *, default_os: str = DEFAULT_OS, hypervisor: str | None = None) -> None:
        """``default_os`` is used when a spec names none; ``hypervisor`` None means the cluster's default."""
        self.client = client
        self.default_os = default_os
        self.hypervisor = hypervisor

    @classmethod
    def for_cluster(cls, cluster: Cluster) -> GanetiDriver:
        """A driver for a `Cluster` row (endpoint, credentials, CA file); reads no other row."""
        from django.conf import settings

        client = RapiClient(
            cluster.endpoint,
            username=cluster.username,
            password=cluster.password,
            ca_file=cluster.ca_file or None,
            cluster=cluster.name,
        )
        return cls(client, default_os=getattr(settings, "GANETI_DEFAULT_OS", DEFAULT_OS))

    def __repr__(self) -> str:
        """The client's repr, which never shows the password."""
        return f"GanetiDriver({self.client!r})"

    def close(self) -> None:
        """Release the client's pooled connections."""
        self.client.close()

    # -- queries ------------------------------------------------------------------------------

    def summary(self) -> ClusterSummary:
        """Name, version, default hypervisor, enabled disk templates and master of the cluster."""
        info = self.client.info()
        return ClusterSummary(
            name=info.name,
            software_version=info.software_version,
            hypervisor=info.default_hypervisor,
            disk_templates=tuple(info.enabled_disk_templates),
            master=info.master,
        )

    def groups(self) -> list[NodeGroupInfo]:
        """Node groups with their allocation policy."""
        return [
            NodeGroupInfo(name=g.name, uuid=g.uuid, alloc_policy=g.alloc_policy or "preferred")
            for g in self.client.groups()
        ]

    def nodes(self) -> list[NodeInfo]:
        """Nodes with capacity; the group is named (Ganeti reports its uuid)."""
        group_names = {g.uuid: g.name for g in self.client.groups()}
        return [
            NodeInfo(
                name=n.name,
                group=group_names.get(n.group_uuid, n.group_uuid),
                role=n.role,
                mtotal=n.mtotal,
                mfree=n.mfree,
                dtotal=n.dtotal,
                dfree=n.dfree,
                ctotal=n.ctotal,
                pinst_cnt=n.pinst_cnt,
                sinst_cnt=n.sinst_cnt,
                drained=n.drained,
                offline=n.offline,
                vm_capable=n.vm_capable,
                address=n.primary_ip,
            )
            for n in self.client.nodes(bulk=True)
        ]

    def instances(self) -> list[InstanceInfo]:
        """Every instance of the cluster (one bulk query)."""
        return [instance_info(inst) for inst in self.client.instances(bulk=True)]

    def instance(self, name: str) -> InstanceInfo:
        """One instance; NotFound when the cluster has none by that name."""
        return instance_info(self.client.instance(name))

    def networks(self) -> list[str]:
        """Names of the cluster's Ganeti networks."""
        return [net.name for net in self.client.networks()]

    def console(self, name: str) -> ConsoleInfo:
        """Ganeti's console description (kind ``vnc``, ``spice``, ``ssh`` or ``msg``).

        A VNC/SPICE server bound to a wildcard address listens on the primary node, so the host
        becomes that node's primary IP. ServiceUnavailable when the instance is not running.

        Ganeti 3.0.2 cannot report a kvm instance's VNC console (luxid fails to parse the
        ``display`` field, RAPI answers 500); then the console is built from the instance's own
        data the way Ganeti's kvm hypervisor would (see `_kvm_vnc_console`).
        """
        try:
            data = self.client.console(name)
        except GanetiApiError as exc:
            if exc.status != HTTPStatus.INTERNAL_SERVER_ERROR:
                raise
            fallback = self._kvm_vnc_console(name)
            if fallback is None:
                raise
            return fallback
        kind = str(data.get("kind") or "")
        host = str(data.get("host") or "")
        if kind in ("vnc", "spice") and host in WILDCARD_HOSTS:
            host = self._node_address(self.client.instance(name).pnode)
        extra = {key: data[key] for key in ("message", "user", "command", "display") if data.get(key) is not None}
        return ConsoleInfo(kind=kind, host=host, port=int(data.get("port") or 0), extra=extra)

    def _kvm_vnc_console(self, name: str) -> ConsoleInfo | None:
        """The VNC console of a kvm instance from ``GET /2/instances/X`` (None when it has none).

        Mirrors Ganeti's kvm ``GetInstanceConsole``: no serial console, an IPv4
        ``vnc_bind_address`` and ``network_port`` above 5900. The host is the bind address, or
        the primary node's primary IP for ``0.0.0.0``. An interface name or a socket directory
        as bind address cannot be described from here (None). ServiceUnavailable when the
        instance is not running, as Ganeti answers then.
        """
        inst = self.client.instance(name)
        hvparams = inst.raw.get("hvparams") or {}
        port = inst.raw.get("network_port")
        bind = str(hvparams.get("vnc_bind_address") or "")
        kvm = "kvm_path" in hvparams or "kvm_flag" in hvparams  # RAPI's fields do not name the hypervisor
        if not kvm or hvparams.get("serial_console") or not isinstance(port, int) or port <= VNC_BASE_PORT:
            return None
        try:
            address = ipaddress.IPv4Address(bind)
        except ValueError:
            return None
        if not inst.oper_state:
            raise ServiceUnavailable(
                HTTPStatus.SERVICE_UNAVAILABLE, "Instance console unavailable", cluster=self.client.cluster
            )
        host = self._node_address(inst.pnode) if str(address) in WILDCARD_HOSTS else str(address)
        extra = {"display": port - VNC_BASE_PORT, "source": "instance hvparams (Ganeti's console query failed)"}
        return ConsoleInfo(kind="vnc", host=host, port=port, extra=extra)

    def _node_address(self, node: str) -> str:
        """The primary IP of ``node`` (its name when Ganeti reports none)."""
        for item in self.client.nodes(bulk=True):
            if item.name == node and item.primary_ip:
                return item.primary_ip
        return node

    # -- instance lifecycle -------------------------------------------------------------------

    def create(self, spec: CreateSpec) -> str:
        """``POST /2/instances``; nodes named in the spec, else one lone node, else Ganeti's allocator.

        The hypervisor is the spec's, else the driver's, else the cluster's default.

        Without ``pnode`` Ganeti runs the cluster's default iallocator (hail), which refuses
        to place anything on a one-node cluster (FailN1), so that case names the node.
        """
        pnode = spec.primary_node or self._lone_node()
        body = InstanceSpec(
            name=spec.name,
            disk_template=spec.disk_template,
            os_type=spec.os or self.default_os,
            # The template is the instance's at creation: no per-disk dev_type.
            disks=[disk_params(DiskSpec(size_mb=d.size_mb, name=d.name)) for d in spec.disks],
            nics=[nic_params(n) for n in spec.nics],
            pnode=pnode,
            snode=spec.secondary_node if pnode else None,
            hypervisor=spec.hypervisor or self.hypervisor,
            beparams={"vcpus": spec.vcpus, "maxmem": spec.memory_mb, "minmem": spec.memory_mb},
            hvparams=dict(spec.hv_params),
            osparams=dict(spec.os_params),
            start=spec.start,
            ip_check=False,
            name_check=False,
            tags=list(spec.tags),
        )
        return str(self.client.create_instance(body))

    def _lone_node(self) -> str | None:
        """The only node that can take instances, when the cluster has exactly one."""
        usable = [n.name for n in self.client.nodes(bulk=True) if n.vm_capable and not (n.offline or n.drained)]
        return usable[0] if len(usable) == 1 else None

    def start(self, name: str) -> str:
        """``PUT /2/instances/X/startup``."""
        return str(self.client.startup(name))

    def stop(self, name: str, *, timeout: int | None = None) -> str:
        """``PUT /2/instances/X/shutdown``, hard after ``timeout`` s (Ganeti's default when None)."""
        return str(self.client.shutdown(name, timeout=timeout))

    def reboot(self, name: str, *, hard: bool = False) -> str:
        """Soft reboot inside the guest, or a hard one (the hypervisor restarts it)."""
        return str(self.client.reboot(name, reboot_type="hard" if hard else "soft"))

    def destroy(self, name: str) -> str:
        """``DELETE /2/instances/X``: remove the instance and its disks."""
        return str(self.client.remove_instance(name))

    def resize(self, name: str, *, vcpus: int, memory_mb: int) -> str:
        """Set vcpus and memory (max = min); a running instance gets them at its next start."""
        return str(self.client.modify(name, beparams={"vcpus": vcpus, "maxmem": memory_mb, "minmem": memory_mb}))

    def add_disk(self, name: str, disk: DiskSpec) -> str:
        """Append a disk, hot-plugged where the hypervisor can (kvm)."""
        return str(self.client.modify(name, disks=[["add", -1, disk_params(disk)]], hotplug_if_possible=True))

    def remove_disk(self, name: str, index: int) -> str:
        """Remove disk ``index``; Ganeti refuses on a running instance it cannot hot-unplug."""
        return str(self.client.modify(name, disks=[["remove", int(index), {}]], hotplug_if_possible=True))

    def grow_disk(self, name: str, index: int, amount_mb: int) -> str:
        """``POST /2/instances/X/disk/N/grow`` by ``amount_mb`` MiB."""
        return str(self.client.grow_disk(name, index, amount_mb))

    def attach_disk(self, name: str, disk_name: str) -> str:
        """Attach the detached disk ``disk_name`` (Ganeti >= 2.16's ``attach`` modification)."""
        return str(self.client.modify(name, disks=[["attach", -1, {"name": disk_name}]], hotplug_if_possible=True))

    def detach_disk(self, name: str, disk_name: str) -> str:
        """Detach disk ``disk_name``: Ganeti keeps it in its configuration, attached to nothing."""
        return str(self.client.modify(name, disks=[["detach", disk_name, {}]], hotplug_if_possible=True))

    def delete_detached_disk(self, name: str, disk_name: str) -> str:
        """Ganeti 3.0 has no opcode removing a detached disk: attach it to ``name``, then remove it.

        The jobs are queued at once and Ganeti runs them in order (each locks the instance); the
        removal's id is returned (it fails when the attach did). A third job detaches the disk
        again: it fails harmlessly after a successful removal, and after a refused one (a running
        instance whose hypervisor cannot hot-unplug, e.g. ``fake``) it leaves the disk detached.
        """
        self.attach_disk(name, disk_name)
        removal = self.client.modify(name, disks=[["remove", disk_name, {}]], hotplug_if_possible=True)
        self.detach_disk(name, disk_name)
        return str(removal)

    def add_nic(self, name: str, nic: NicSpec) -> str:
        """Append a NIC, hot-plugged where the hypervisor can (kvm)."""
        return str(self.client.modify(name, nics=[["add", -1, nic_params(nic)]], hotplug_if_possible=True))

    def remove_nic(self, name: str, index: int) -> str:
        """Remove NIC ``index``."""
        return str(self.client.modify(name, nics=[["remove", int(index), {}]], hotplug_if_possible=True))

    def migrate(self, name: str, *, target_node: str | None = None, live: bool = True) -> str:
        """``PUT /2/instances/X/migrate``; ``target_node`` applies to externally mirrored templates."""
        return str(self.client.migrate(name, mode="live" if live else "non-live", target_node=target_node))

    def failover(self, name: str, *, target_node: str | None = None) -> str:
        """``PUT /2/instances/X/failover`` (stop, then start on the secondary or ``target_node``)."""
        return str(self.client.failover(name, target_node=target_node))

    def change_disk_template(self, name: str, template: str, *, secondary_node: str | None = None) -> str:
        """Convert the disks (e.g. plain→drbd with ``secondary_node``); the instance must be down."""
        params: dict[str, Any] = {"disk_template": template}
        if secondary_node:
            params["remote_node"] = secondary_node
        return str(self.client.modify(name, **params))

    # -- nodes --------------------------------------------------------------------------------

    # --- disk data ---------------------------------------------------------------------------
    def disk_data_supported(self) -> bool:
        """False: RAPI serves no disk bytes (an OS definition or an export would be needed)."""
        return False

    def read_disk(self, name: str, disk: int | str) -> DiskData:
        """Always NotSupported (see `NO_DISK_DATA`)."""
        raise NotSupported(NO_DISK_DATA, cluster=self.client.cluster)

    def write_disk(self, name: str, disk: int | str, chunks: Iterable[bytes], *, size: int) -> int:
        """Always NotSupported (see `NO_DISK_DATA`)."""
        raise NotSupported(NO_DISK_DATA, cluster=self.client.cluster)

    def evacuate_node(self, node: str, *, mode: str = "all") -> str:
        """``POST /2/nodes/X/evacuate``; Ganeti's default iallocator picks the new nodes."""
        return str(self.client.node_evacuate(node, mode=mode))

    def set_node_drained(self, node: str, drained: bool) -> str:
        """Role ``drained``, or back to ``regular`` (Ganeti re-promotes it to candidate if needed)."""
        return str(self.client.set_node_role(node, "drained" if drained else "regular"))

    # -- jobs ---------------------------------------------------------------------------------

    def job(self, job_id: str) -> JobStatus:
        """``GET /2/jobs/N`` mapped to a `JobStatus`; NotFound for unknown or archived jobs."""
        return job_status(self.client.job(int(job_id)))

    def wait_job(self, job_id: str, *, previous: JobStatus | None, timeout: float) -> JobStatus:
        """Long-poll until the status or log differs from ``previous``, or ``timeout`` passes.

        Returns the job's current status either way. Each poll lasts up to Ganeti's ~10 s, so
        the wait may overrun a shorter ``timeout`` by one poll.
        """
        if previous is None or JobState(previous.state).finished:
            return self.job(job_id)
        deadline = time.monotonic() + timeout
        # JobState(...) also accepts the plain status string of a row the caller rebuilt.
        prev_info: list[Any] = [JobState(previous.state).value]
        while True:
            # RAPI answers None when nothing changed within its own wait (~10 s).
            change = self.client.wait_for_job_change(int(job_id), list(WAIT_FIELDS), prev_info, previous.last_serial)
            if change is not None or time.monotonic() >= deadline:
                break
        return self.job(job_id)

    def cancel_job(self, job_id: str) -> bool:
        """``DELETE /2/jobs/N``; False when Ganeti says the job can no longer be cancelled."""
        cancelled, _message = self.client.cancel_job(int(job_id))
        return cancelled
