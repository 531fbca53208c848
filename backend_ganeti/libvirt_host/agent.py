"""Start and stop the host agent: open the nodes, restore state, serve, shut down cleanly.

    manage.py libvirt_host run --socket PATH [--state-dir DIR] [--uri URI ...] [options]

Without `--uri` the host has `--nodes` simulated nodes (libvirt's test driver); with one or
more `--uri` (e.g. `qemu:///system`) each URI is a real node, its domains get `--domain-type`
(`qemu` = TCG, `kvm`, or `auto` from libvirt's capabilities) and the simulated delays default
to 0. SIGTERM/SIGINT stop accepting requests, wait up to `--grace` seconds for running jobs,
and exit 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import libvirt

from backend_ganeti.libvirt_host.api import Api
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.jobs import JobQueue
from backend_ganeti.libvirt_host.nodes import (
    DOMAIN_TYPE_CHOICES,
    HostNode,
    quiet_libvirt,
    simulated_nodes,
    uri_nodes,
)
from backend_ganeti.libvirt_host.operations import Delays, Operations
from backend_ganeti.libvirt_host.server import AgentHTTPServer, SocketInUse
from backend_ganeti.libvirt_host.store import StateStore

log = logging.getLogger(__name__)
# A sockaddr_un path holds 107 bytes plus the terminating NUL.
MAX_SOCKET_PATH = 107


class AgentStartError(Exception):
    """The agent cannot start (bad option, socket in use, libvirt refused a connection)."""


@dataclass(frozen=True)
class AgentConfig:
    """Everything `run` needs; built from the command line by `config_from_options`."""

    socket: Path
    state_dir: Path
    uris: tuple[str, ...] = ()
    nodes: int = 2
    node_cpus: int = 16
    node_memory_mb: int = 32 * 1024
    node_disk_mb: int = 500 * 1024
    domain_type: str = "qemu"
    disk_dir: Path | None = None
    delays: Delays = field(default_factory=Delays)
    vnc_ports: range = range(5900, 6900)
    workers: int = 20  # as many jobs at once as a Ganeti master runs by default
    keep_jobs: int = 1000
    grace: float = 10.0
    name: str = "libvirt-host"


def add_run_arguments(parser: argparse.ArgumentParser, *, default_state_dir: Path) -> None:
    """The options of `libvirt_host run`."""
    parser.add_argument("--socket", required=True, type=Path, help="Unix socket to serve on")
    parser.add_argument("--state-dir", type=Path, default=default_state_dir, help="persisted domains and jobs")
    parser.add_argument("--uri", action="append", default=[], help="a real libvirt node, e.g. qemu:///system")
    parser.add_argument("--nodes", type=int, default=2, help="simulated nodes (without --uri)")
    parser.add_argument("--node-cpus", type=int, default=16)
    parser.add_argument("--node-memory-mb", type=int, default=32 * 1024)
    parser.add_argument("--node-disk-mb", type=int, default=500 * 1024, help="disk budget per node (both kinds)")
    parser.add_argument(
        "--domain-type",
        choices=DOMAIN_TYPE_CHOICES,
        default="qemu",
        help="for --uri nodes: qemu (TCG), kvm, or auto (kvm when libvirt offers it)",
    )
    parser.add_argument("--disk-dir", type=Path, default=None, help="file disks of --uri nodes (STATE_DIR/disks)")
    parser.add_argument("--build-delay", type=float, default=None, help="seconds a create builds (3; 0 with --uri)")
    parser.add_argument(
        "--op-delay", type=float, default=None, help="seconds a start/stop/reboot takes (1; 0 with --uri)"
    )
    parser.add_argument("--migrate-delay", type=float, default=None, help="seconds a migration takes (2; 0 with --uri)")
    parser.add_argument(
        "--shutdown-timeout",
        type=float,
        default=120.0,
        help="seconds a stop without its own timeout waits for ACPI before powering off",
    )
    parser.add_argument("--vnc-ports", default="5900-6899", help="range of console ports of simulated instances")
    parser.add_argument("--workers", type=int, default=20, help="jobs running at once")
    parser.add_argument("--keep-jobs", type=int, default=1000, help="finished jobs kept")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to let running jobs finish on stop")
    parser.add_argument("--name", default="libvirt-host", help="the host's cluster name in /info")


def config_from_options(options: dict) -> AgentConfig:
    """Validate parsed options into an AgentConfig (AgentStartError on nonsense)."""
    socket_path = Path(options["socket"]).absolute()
    if len(str(socket_path).encode()) > MAX_SOCKET_PATH:
        raise AgentStartError(f"socket path {socket_path} is longer than {MAX_SOCKET_PATH} bytes")
    real = bool(options["uri"])

    def delay(key: str, simulated_default: float) -> float:
        value = options[key]
        return float(value) if value is not None else (0.0 if real else simulated_default)

    low, _, high = str(options["vnc_ports"]).partition("-")
    if not (low.isdigit() and high.isdigit() and 0 < int(low) <= int(high) < 65536):
        raise AgentStartError(f"--vnc-ports wants LOW-HIGH, got {options['vnc_ports']!r}")
    if not real and not 1 <= options["nodes"] <= 64:
        raise AgentStartError("--nodes must be from 1 to 64")
    shutdown_timeout = float(options.get("shutdown_timeout", 120.0))
    if shutdown_timeout < 0:
        raise AgentStartError("--shutdown-timeout must not be negative")
    disk_dir = options.get("disk_dir")
    return AgentConfig(
        socket=socket_path,
        state_dir=Path(options["state_dir"]).absolute(),
        uris=tuple(options["uri"]),
        nodes=options["nodes"],
        node_cpus=options["node_cpus"],
        node_memory_mb=options["node_memory_mb"],
        node_disk_mb=options["node_disk_mb"],
        domain_type=options["domain_type"],
        disk_dir=Path(disk_dir).absolute() if disk_dir else None,
        delays=Delays(
            build=delay("build_delay", 3.0),
            power=delay("op_delay", 1.0),
            migrate=delay("migrate_delay", 2.0),
            shutdown_timeout=shutdown_timeout,
        ),
        vnc_ports=range(int(low), int(high) + 1),
        workers=max(1, options["workers"]),
        keep_jobs=max(1, options["keep_jobs"]),
        grace=options["grace"],
        name=options["name"],
    )


def _open_nodes(config: AgentConfig, store: StateStore) -> list[HostNode]:
    try:
        if config.uris:
            return uri_nodes(list(config.uris), disk_mb=config.node_disk_mb, domain_type=config.domain_type)
        return simulated_nodes(
            store.nodes_dir,
            count=config.nodes,
            cpus=config.node_cpus,
            memory_mb=config.node_memory_mb,
            disk_mb=config.node_disk_mb,
        )
    except libvirt.libvirtError as exc:
        raise AgentStartError(f"cannot open libvirt: {exc.get_error_message() or exc}") from None


def run(config: AgentConfig) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status."""
    started = time.monotonic()
    quiet_libvirt()
    config.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = StateStore(config.state_dir)
    nodes = _open_nodes(config, store)
    disk_dir = config.disk_dir or config.state_dir / "disks"
    host = Host(nodes, store, disk_dir=disk_dir, vnc_ports=config.vnc_ports)
    dropped = host.restore()
    operations = Operations(host, config.delays)
    queue = JobQueue(store, operations.run, workers=config.workers, keep=config.keep_jobs)
    queue.recover()
    api = Api(host, queue, name=config.name, cluster_uuid=store.cluster_uuid())
    try:
        server = AgentHTTPServer(config.socket, api)
    except SocketInUse as exc:
        raise AgentStartError(str(exc)) from None
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("signal %s: stopping the host agent", signal.Signals(signum).name)
            threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    queue.start()
    if config.uris:
        kind = "real nodes " + ", ".join(f"{node.uri} ({node.name}, domain type {node.domain_type})" for node in nodes)
    else:
        kind = f"{len(nodes)} simulated nodes (test driver)"
    log.info(
        "libvirt host agent on %s: %s, %d instance(s) restored%s, state in %s (ready in %.2f s)",
        config.socket,
        kind,
        len(host.records),
        f", {len(dropped)} partial build(s) removed" if dropped else "",
        config.state_dir,
        time.monotonic() - started,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        queue.stop(config.grace)
        for node in nodes:
            node.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("libvirt host agent stopped")
    return 0
