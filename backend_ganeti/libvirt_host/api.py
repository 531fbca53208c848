"""The agent's HTTP API: routes, request validation, and job submission (transport-free).

Modelled on Ganeti RAPI: reads answer at once; every write is validated (400 for bad
parameters, 404 for an unknown instance/node, 409 for a name in use) and then answered with a
job id (`{"job_id": N}`), the work happening in the job. `server.py` carries it over HTTP.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend_ganeti.libvirt_host import DISK_TEMPLATES, operations
from backend_ganeti.libvirt_host.errors import BadRequestError, ConflictError, NotFoundError
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.jobs import JobQueue
from backend_ganeti.libvirt_host.store import NAME_RE
from backend_ganeti.libvirt_host.views import (
    console_view,
    info_view,
    instance_view,
    instance_views,
    network_names,
    node_views,
)

MAX_VCPUS = 256
MAX_MEMORY_MB = 4 * 1024 * 1024
MAX_DISK_MB = 64 * 1024 * 1024
EVACUATE_MODES = ("all", "primary-only", "secondary-only")


@dataclass(frozen=True)
class Request:
    """One parsed request: path parameters, query string and JSON body."""

    args: tuple[str, ...]
    query: dict[str, str]
    body: dict[str, Any]


Handler = Callable[[Request], Any]


# --- validation helpers -----------------------------------------------------------------------
def _int(data: dict[str, Any], key: str, *, low: int, high: int, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequestError(f"{key} must be an integer from {low} to {high}")
    return value


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequestError(f"{key} must be a string")
    return value or None


def _disk(data: Any, template: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequestError("a disk must be an object with size_mb")
    if data.get("template") not in (None, "", template):
        raise BadRequestError(f"disk template {data['template']!r} differs from the instance's {template!r}")
    return {"size_mb": _int(data, "size_mb", low=1, high=MAX_DISK_MB), "name": _opt_str(data, "name") or ""}


def _disk_name(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise BadRequestError(f"{key} must be a disk name (letters, digits, '.', '_', '-')")
    return value


def _nic(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequestError("a NIC must be an object")
    mac = _opt_str(data, "mac")
    if mac and not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac.lower()):
        raise BadRequestError(f"invalid MAC address {mac!r}")
    nic = {key: _opt_str(data, key) for key in ("ip", "network", "link")}
    return {"mac": mac.lower() if mac else "", **nic, "name": _opt_str(data, "name") or ""}


def _create_params(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BadRequestError("name must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    template = body.get("disk_template")
    if template not in DISK_TEMPLATES:
        raise BadRequestError(f"disk_template must be one of {', '.join(DISK_TEMPLATES)}")
    if body.get("secondary_node"):
        raise BadRequestError("a libvirt host has no secondary nodes (templates file and diskless are not mirrored)")
    disks, nics = body.get("disks") or [], body.get("nics") or []
    if not isinstance(disks, list) or not isinstance(nics, list):
        raise BadRequestError("disks and nics must be lists")
    if template == "diskless" and disks:
        raise BadRequestError("a diskless instance cannot have disks")
    if template == "file" and not disks:
        raise BadRequestError("the file template needs at least one disk")
    for key in ("os_params", "hv_params"):
        if not isinstance(body.get(key) or {}, dict):
            raise BadRequestError(f"{key} must be an object")
    return {
        "name": name,
        "vcpus": _int(body, "vcpus", low=1, high=MAX_VCPUS),
        "memory_mb": _int(body, "memory_mb", low=16, high=MAX_MEMORY_MB),
        "disk_template": template,
        "disks": [_disk(disk, template) for disk in disks],
        "nics": [_nic(nic) for nic in nics],
        "os": _opt_str(body, "os") or "",
        "os_params": body.get("os_params") or {},
        "hv_params": body.get("hv_params") or {},
        "tags": [str(tag) for tag in body.get("tags") or []],
        "node": _opt_str(body, "node"),
        "start": bool(body.get("start", True)),
    }


class Api:
    """Routes requests to handlers; every handler returns JSON-ready data or raises AgentError."""

    def __init__(self, host: Host, queue: JobQueue, *, name: str, cluster_uuid: str) -> None:
        """Bind to the host and its job queue; the route table is explicit."""
        self.host = host
        self.queue = queue
        self.name = name
        self.cluster_uuid = cluster_uuid
        self._submit_lock = threading.Lock()
        instance = r"/instances/([^/]+)"
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/info"), self.info),
            ("GET", re.compile(r"/nodes"), lambda r: node_views(self.host)),
            ("GET", re.compile(r"/networks"), lambda r: network_names(self.host)),
            ("GET", re.compile(r"/instances"), lambda r: instance_views(self.host)),
            ("POST", re.compile(r"/instances"), self.create),
            ("GET", re.compile(instance), self.instance),
            ("DELETE", re.compile(instance), self.simple(operations.OP_REMOVE)),
            ("GET", re.compile(instance + "/console"), lambda r: console_view(self.host, self._existing(r.args[0]))),
            ("POST", re.compile(instance + "/start"), self.simple(operations.OP_STARTUP)),
            ("POST", re.compile(instance + "/stop"), self.stop),
            ("POST", re.compile(instance + "/reboot"), self.reboot),
            ("POST", re.compile(instance + "/migrate"), self.migrate),
            ("POST", re.compile(instance + "/failover"), self.failover),
            ("POST", re.compile(instance + "/modify"), self.modify),
            ("POST", re.compile(instance + r"/disks/(\d+)/grow"), self.grow_disk),
            ("POST", re.compile(instance + "/disk-template"), self.change_disk_template),
            ("POST", re.compile(r"/nodes/([^/]+)/evacuate"), self.evacuate),
            ("POST", re.compile(r"/nodes/([^/]+)/drain"), self.drain),
            ("GET", re.compile(r"/jobs"), lambda r: self.queue.summaries()),
            ("GET", re.compile(r"/jobs/(\d+)"), lambda r: self.queue.snapshot(int(r.args[0]))),
            ("GET", re.compile(r"/jobs/(\d+)/wait"), self.wait),
            ("POST", re.compile(r"/jobs/(\d+)/cancel"), self.cancel),
        ]

    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> Any:
        """Dispatch one request; NotFoundError for an unknown path, BadRequestError for a wrong method."""
        path = path.rstrip("/") or "/"
        allowed = []
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match:
                if route_method == method:
                    return handler(Request(args=match.groups(), query=query, body=body))
                allowed.append(route_method)
        if allowed:
            raise BadRequestError(f"{method} is not allowed on {path} (allowed: {', '.join(allowed)})")
        raise NotFoundError(f"no such resource {path}")

    # --- reads ------------------------------------------------------------------------------
    def info(self, request: Request) -> dict[str, Any]:
        """Host-wide facts."""
        return info_view(self.host, name=self.name, cluster_uuid=self.cluster_uuid)

    def instance(self, request: Request) -> dict[str, Any]:
        """One instance."""
        with self.host.lock:
            return instance_view(self.host, self.host.record(request.args[0]))

    def wait(self, request: Request) -> dict[str, Any]:
        """Long-poll a job until it changes (see JobQueue.wait)."""
        query = request.query
        try:
            serial = int(query.get("serial", "0"))
            progress = int(query["progress"]) if query.get("progress") not in (None, "") else None
            timeout = float(query.get("timeout", "10"))
        except ValueError:
            raise BadRequestError("serial and progress must be integers, timeout a number") from None
        status = query.get("status") or None
        return self.queue.wait(int(request.args[0]), serial=serial, status=status, progress=progress, timeout=timeout)

    # --- writes -----------------------------------------------------------------------------
    def _existing(self, name: str) -> str:
        """`name` if the instance exists or is being created; NotFoundError otherwise."""
        if name not in self.host.records and name not in self.queue.unfinished_targets(operations.OP_CREATE):
            raise NotFoundError(f"instance {name!r} does not exist")
        return name

    def _node(self, name: str | None) -> str | None:
        if name is not None and name not in self.host.nodes:
            raise BadRequestError(f"unknown node {name!r} (nodes: {', '.join(self.host.nodes)})")
        return name

    def _submit(self, operation: str, target: str, params: dict[str, Any], locks: list[str]) -> dict[str, int]:
        return {"job_id": self.queue.submit(operation, target, params, locks)}

    def create(self, request: Request) -> dict[str, int]:
        """Queue a create; 409 when the name is taken or being created."""
        params = _create_params(request.body)
        self._node(params["node"])
        with self._submit_lock:
            self.host.check_name_free(params["name"])
            if params["name"] in self.queue.unfinished_targets(operations.OP_CREATE):
                raise ConflictError(f"instance {params['name']!r} is being created")
            return self._submit(operations.OP_CREATE, params["name"], params, [params["name"]])

    def simple(self, operation: str) -> Handler:
        """A handler for an instance operation without parameters."""

        def handler(request: Request) -> dict[str, int]:
            name = self._existing(request.args[0])
            return self._submit(operation, name, {}, [name])

        return handler

    def stop(self, request: Request) -> dict[str, int]:
        """Queue a shutdown (`timeout` seconds before forcing; default 120)."""
        name = self._existing(request.args[0])
        timeout = request.body.get("timeout")
        if timeout is not None:
            timeout = _int(request.body, "timeout", low=0, high=3600)
        return self._submit(operations.OP_SHUTDOWN, name, {"timeout": timeout}, [name])

    def reboot(self, request: Request) -> dict[str, int]:
        """Queue a soft or hard reboot."""
        name = self._existing(request.args[0])
        return self._submit(operations.OP_REBOOT, name, {"hard": bool(request.body.get("hard"))}, [name])

    def migrate(self, request: Request) -> dict[str, int]:
        """Queue a migration (`target_node` optional, `live` default true)."""
        name = self._existing(request.args[0])
        params = {
            "target_node": self._node(_opt_str(request.body, "target_node")),
            "live": bool(request.body.get("live", True)),
        }
        return self._submit(operations.OP_MIGRATE, name, params, [name])

    def failover(self, request: Request) -> dict[str, int]:
        """Queue a failover (`target_node` optional)."""
        name = self._existing(request.args[0])
        params = {"target_node": self._node(_opt_str(request.body, "target_node"))}
        return self._submit(operations.OP_FAILOVER, name, params, [name])

    def modify(self, request: Request) -> dict[str, int]:
        """Queue a change of vcpus/memory_mb, disk_add/disk_remove, nic_add/nic_remove."""
        name = self._existing(request.args[0])
        body, params = request.body, {}
        if "vcpus" in body:
            params["vcpus"] = _int(body, "vcpus", low=1, high=MAX_VCPUS)
        if "memory_mb" in body:
            params["memory_mb"] = _int(body, "memory_mb", low=16, high=MAX_MEMORY_MB)
        if body.get("disk_add") is not None:
            params["disk_add"] = _disk(body["disk_add"], "")
        if body.get("disk_remove") is not None:
            params["disk_remove"] = _int(body, "disk_remove", low=0, high=1024)
        for key in ("disk_attach", "disk_detach", "disk_delete_detached"):
            if body.get(key) is not None:
                params[key] = _disk_name(body, key)
        if body.get("nic_add") is not None:
            params["nic_add"] = _nic(body["nic_add"])
        if body.get("nic_remove") is not None:
            params["nic_remove"] = _int(body, "nic_remove", low=0, high=1024)
        if not params:
            raise BadRequestError(
                "nothing to modify (vcpus, memory_mb, disk_add, disk_remove, disk_attach, disk_detach, "
                "disk_delete_detached, nic_add, nic_remove)"
            )
        return self._submit(operations.OP_SET_PARAMS, name, params, [name])

    def grow_disk(self, request: Request) -> dict[str, int]:
        """Queue growing disk N by `amount_mb`."""
        name = self._existing(request.args[0])
        params = {"index": int(request.args[1]), "amount_mb": _int(request.body, "amount_mb", low=1, high=MAX_DISK_MB)}
        return self._submit(operations.OP_GROW_DISK, name, params, [name])

    def change_disk_template(self, request: Request) -> dict[str, int]:
        """Always 400: file and diskless have no conversion between them on this host."""
        self._existing(request.args[0])
        raise BadRequestError("disk template conversion is not supported on a libvirt host (templates: file, diskless)")

    def evacuate(self, request: Request) -> dict[str, int]:
        """Queue moving every instance off a node (runs alone: it locks the whole host)."""
        node = self.host.node(request.args[0]).name
        mode = request.body.get("mode", "all")
        if mode not in EVACUATE_MODES:
            raise BadRequestError(f"mode must be one of {', '.join(EVACUATE_MODES)}")
        return self._submit(operations.OP_NODE_EVACUATE, node, {"mode": mode}, ["*"])

    def drain(self, request: Request) -> dict[str, int]:
        """Queue setting a node's drained flag (`drained`, default true)."""
        node = self.host.node(request.args[0]).name
        drained = request.body.get("drained", True)
        if not isinstance(drained, bool):
            raise BadRequestError("drained must be true or false")
        return self._submit(operations.OP_NODE_SET_PARAMS, node, {"drained": drained}, [f"node:{node}"])

    def cancel(self, request: Request) -> dict[str, Any]:
        """Cancel a queued job; `canceled` false when it already runs or ended."""
        canceled, message = self.queue.cancel(int(request.args[0]))
        return {"canceled": canceled, "message": message}
