"""`ClusterDriver` for the embedded libvirt host: the host agent's HTTP API on a Unix socket.

The agent (`manage.py libvirt_host run`, backend_ganeti/libvirt_host/) owns the libvirt
connections and runs every write as a job, so this driver is a thin translation between its JSON
and the value types of `drivers/types.py`. The cluster's endpoint is `unix:///abs/path.sock`.
Errors are the RAPI family: `ClusterUnreachable` when the agent does not answer, `NotFound`,
`Conflict`, `BadRequest` for its 404/409/400; a failed job is a JobStatus in state error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backend_ganeti.drivers.types import (
    ClusterSummary,
    ConsoleInfo,
    CreateSpec,
    DiskData,
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
from backend_ganeti.libvirt_host.client import HostClient
from backend_ganeti.rapi.errors import ClusterUnreachable

if TYPE_CHECKING:
    from backend_ganeti.models import Cluster


def socket_path_from_endpoint(endpoint: str) -> str:
    """`unix:///abs/path` (or a bare absolute path) to the socket path."""
    path = endpoint[len("unix://") :] if endpoint.startswith("unix://") else endpoint
    if not path.startswith("/"):
        raise ClusterUnreachable(f"endpoint {endpoint!r} is not unix:///absolute/path/to/socket")
    return path


def _nic_body(nic: NicSpec) -> dict[str, Any]:
    return {"mac": nic.mac, "ip": nic.ip, "network": nic.network, "link": nic.link, "name": nic.name}


def _disk_body(disk: DiskSpec) -> dict[str, Any]:
    return {"size_mb": disk.size_mb, "name": disk.name, "template": disk.template or None}


def _instance(data: dict[str, Any]) -> InstanceInfo:
    return InstanceInfo(
        name=data["name"],
        primary_node=data["node"],
        secondary_nodes=tuple(data.get("secondary_nodes", ())),
        power=PowerState(data["power"]),
        admin_up=bool(data["admin_up"]),
        vcpus=int(data["vcpus"]),
        memory_mb=int(data["memory_mb"]),
        disk_template=data["disk_template"],
        disks=tuple(
            DiskInfo(size_mb=d["size_mb"], template=d.get("template", ""), name=d.get("name", ""))
            for d in data["disks"]
        ),
        nics=tuple(
            NicInfo(mac=n["mac"], ip=n.get("ip"), network=n.get("network"), link=n.get("link"), name=n.get("name", ""))
            for n in data["nics"]
        ),
        os=data.get("os", ""),
        mtime=data.get("mtime"),
        tags=tuple(data.get("tags", ())),
    )


def _node(data: dict[str, Any]) -> NodeInfo:
    return NodeInfo(
        name=data["name"],
        group=data["group"],
        role=data["role"],
        mtotal=data["mtotal"],
        mfree=data["mfree"],
        dtotal=data["dtotal"],
        dfree=data["dfree"],
        ctotal=data["ctotal"],
        pinst_cnt=data["pinst_cnt"],
        sinst_cnt=data["sinst_cnt"],
        drained=data["drained"],
        offline=data["offline"],
        vm_capable=data["vm_capable"],
        address=data.get("address", ""),
    )


def _job(data: dict[str, Any]) -> JobStatus:
    return JobStatus(
        job_id=str(data["job_id"]),
        state=JobState(data["status"]),
        operations=(data["operation"],),
        log=tuple(
            JobLogEntry(serial=e["serial"], timestamp=e["timestamp"], kind=e["kind"], message=e["message"])
            for e in data["log"]
        ),
        progress=data.get("progress"),
        error=data.get("error", ""),
        result=data.get("result"),
        received_at=data.get("received_at"),
        started_at=data.get("started_at"),
        ended_at=data.get("ended_at"),
    )


class LibvirtHostDriver:
    """Implements `ClusterDriver` over a `HostClient`."""

    def __init__(self, client: HostClient) -> None:
        """Use `client` (see `for_cluster` / `for_socket`)."""
        self.client = client

    @classmethod
    def for_cluster(cls, cluster: Cluster) -> LibvirtHostDriver:
        """A driver for a `libvirt` cluster row (endpoint `unix:///path`)."""
        return cls.for_socket(socket_path_from_endpoint(cluster.endpoint), cluster=cluster.name)

    @classmethod
    def for_socket(cls, path: str, *, cluster: str = "", timeout: float = 15.0) -> LibvirtHostDriver:
        """A driver talking to the agent on socket `path`."""
        return cls(HostClient(str(path), timeout=timeout, cluster=cluster))

    def __repr__(self) -> str:
        """Name the socket."""
        return f"LibvirtHostDriver({self.client.socket_path!r})"

    @staticmethod
    def _i(name: str) -> str:
        return f"/instances/{quote(name, safe='')}"

    # --- queries -------------------------------------------------------------------------
    def summary(self) -> ClusterSummary:
        """Name, libvirt version, hypervisor (`test` when simulated), templates file/diskless."""
        info = self.client.get("/info")
        return ClusterSummary(
            name=info["name"],
            software_version=info["software_version"],
            hypervisor=info["hypervisor"],
            disk_templates=tuple(info["disk_templates"]),
            master=info.get("master", ""),
        )

    def groups(self) -> list[NodeGroupInfo]:
        """The host's single implicit group."""
        group = self.client.get("/info")["group"]
        return [NodeGroupInfo(name=group["name"], uuid=group["uuid"])]

    def nodes(self) -> list[NodeInfo]:
        """Nodes with capacity accounted from defined instances."""
        return [_node(item) for item in self.client.get("/nodes")]

    def instances(self) -> list[InstanceInfo]:
        """Every instance."""
        return [_instance(item) for item in self.client.get("/instances")]

    def instance(self, name: str) -> InstanceInfo:
        """One instance; NotFound when there is none."""
        return _instance(self.client.get(self._i(name)))

    def networks(self) -> list[str]:
        """libvirt networks of the host."""
        return list(self.client.get("/networks"))

    def console(self, name: str) -> ConsoleInfo:
        """VNC host/port (on the simulated host a reserved port nothing listens on; see `extra`)."""
        data = self.client.get(self._i(name) + "/console")
        extra = {key: data[key] for key in ("simulated", "note") if key in data}
        return ConsoleInfo(kind=data["kind"], host=data["host"], port=int(data["port"]), extra=extra)

    # --- instance lifecycle ----------------------------------------------------------------
    def create(self, spec: CreateSpec) -> str:
        """Queue a create; 409 Conflict when the name exists."""
        body = {
            "name": spec.name,
            "vcpus": spec.vcpus,
            "memory_mb": spec.memory_mb,
            "disk_template": spec.disk_template,
            "disks": [_disk_body(disk) for disk in spec.disks],
            "nics": [_nic_body(nic) for nic in spec.nics],
            "os": spec.os,
            "os_params": spec.os_params,
            "hv_params": spec.hv_params,
            "node": spec.primary_node,
            "secondary_node": spec.secondary_node,
            "start": spec.start,
            "tags": list(spec.tags),
        }
        return self.client.submit("POST", "/instances", body)

    def start(self, name: str) -> str:
        """Queue a start."""
        return self.client.submit("POST", self._i(name) + "/start")

    def stop(self, name: str, *, timeout: int | None = None) -> str:
        """Queue a shutdown, forced after `timeout` seconds."""
        return self.client.submit("POST", self._i(name) + "/stop", {"timeout": timeout})

    def reboot(self, name: str, *, hard: bool = False) -> str:
        """Queue a soft or hard reboot."""
        return self.client.submit("POST", self._i(name) + "/reboot", {"hard": hard})

    def destroy(self, name: str) -> str:
        """Queue the removal of the instance and its disks."""
        return self.client.submit("DELETE", self._i(name))

    def resize(self, name: str, *, vcpus: int, memory_mb: int) -> str:
        """Queue a CPU/memory change (the running domain gets it at its next start)."""
        return self.client.submit("POST", self._i(name) + "/modify", {"vcpus": vcpus, "memory_mb": memory_mb})

    def add_disk(self, name: str, disk: DiskSpec) -> str:
        """Queue attaching a new disk."""
        return self.client.submit("POST", self._i(name) + "/modify", {"disk_add": _disk_body(disk)})

    def remove_disk(self, name: str, index: int) -> str:
        """Queue removing disk `index`."""
        return self.client.submit("POST", self._i(name) + "/modify", {"disk_remove": index})

    def grow_disk(self, name: str, index: int, amount_mb: int) -> str:
        """Queue growing disk `index`."""
        return self.client.submit("POST", self._i(name) + f"/disks/{int(index)}/grow", {"amount_mb": amount_mb})

    def attach_disk(self, name: str, disk_name: str) -> str:
        """Queue attaching the host's detached disk `disk_name`."""
        return self.client.submit("POST", self._i(name) + "/modify", {"disk_attach": disk_name})

    def detach_disk(self, name: str, disk_name: str) -> str:
        """Queue detaching disk `disk_name` (the host keeps its file)."""
        return self.client.submit("POST", self._i(name) + "/modify", {"disk_detach": disk_name})

    def delete_detached_disk(self, name: str, disk_name: str) -> str:
        """Queue deleting the detached disk `disk_name` (the instance only orders the job)."""
        return self.client.submit("POST", self._i(name) + "/modify", {"disk_delete_detached": disk_name})

    def add_nic(self, name: str, nic: NicSpec) -> str:
        """Queue attaching a NIC."""
        return self.client.submit("POST", self._i(name) + "/modify", {"nic_add": _nic_body(nic)})

    def remove_nic(self, name: str, index: int) -> str:
        """Queue removing NIC `index`."""
        return self.client.submit("POST", self._i(name) + "/modify", {"nic_remove": index})

    def migrate(self, name: str, *, target_node: str | None = None, live: bool = True) -> str:
        """Queue a migration to `target_node` (else the node with most free memory)."""
        return self.client.submit("POST", self._i(name) + "/migrate", {"target_node": target_node, "live": live})

    def failover(self, name: str, *, target_node: str | None = None) -> str:
        """Queue a failover (stop here, start there)."""
        return self.client.submit("POST", self._i(name) + "/failover", {"target_node": target_node})

    def change_disk_template(self, name: str, template: str, *, secondary_node: str | None = None) -> str:
        """Always BadRequest: a libvirt host has no template conversions."""
        body = {"template": template, "secondary_node": secondary_node}
        return self.client.submit("POST", self._i(name) + "/disk-template", body)

    # --- disk data ---------------------------------------------------------------------------
    def disk_data_supported(self) -> bool:
        """True: the agent serves and writes the raw disk files (sparse files on simulated nodes too)."""
        return True

    def _data(self, name: str, disk: int | str) -> str:
        return self._i(name) + f"/disks/{quote(str(disk), safe='')}/data"

    def read_disk(self, name: str, disk: int | str) -> DiskData:
        """Stream disk `disk` (index or name) of `name`: the whole raw file."""
        size, chunks = self.client.stream(self._data(name, disk))
        return DiskData(size=size, chunks=chunks)

    def write_disk(self, name: str, disk: int | str, chunks: Iterable[bytes], *, size: int) -> int:
        """Write `size` bytes at the start of disk `disk`; the agent refuses more than the disk holds."""
        return int(self.client.upload(self._data(name, disk), chunks, size=size)["written"])

    # --- nodes -----------------------------------------------------------------------------
    def evacuate_node(self, node: str, *, mode: str = "all") -> str:
        """Queue moving every instance off `node`."""
        return self.client.submit("POST", f"/nodes/{quote(node, safe='')}/evacuate", {"mode": mode})

    def set_node_drained(self, node: str, drained: bool) -> str:
        """Queue (un)draining `node`."""
        return self.client.submit("POST", f"/nodes/{quote(node, safe='')}/drain", {"drained": drained})

    # --- jobs ------------------------------------------------------------------------------
    def job(self, job_id: str) -> JobStatus:
        """The job's status and log."""
        return _job(self.client.get(f"/jobs/{quote(str(job_id), safe='')}"))

    def wait_job(self, job_id: str, *, previous: JobStatus | None, timeout: float) -> JobStatus:
        """Long-poll until the job differs from `previous` (at once when `previous` is None)."""
        if previous is None:
            return self.job(job_id)
        data = self.client.wait_job(
            str(job_id),
            serial=previous.last_serial,
            status=str(previous.state),
            progress=previous.progress,
            timeout=timeout,
        )
        return _job(data)

    def cancel_job(self, job_id: str) -> bool:
        """Cancel a job that has not started; False once it runs or ended."""
        return bool(self.client.post(f"/jobs/{quote(str(job_id), safe='')}/cancel")["canceled"])

    def close(self) -> None:
        """Nothing to release: every request uses its own short connection."""
