"""Namespace plumbing for the Ganeti lab: switch and node namespaces, mounts, forwarders.

Every node is a network namespace (``ip netns``) plus a persistent private mount and UTS
namespace (``unshare --mount=FILE --uts=FILE``) whose bind mounts give it its own Ganeti state.
Nodes of one cluster hang off a bridge that lives in a dedicated "switch" namespace, so no
address, route or link of the lab ever appears in the root namespace. The root namespace reaches
a master's RAPI only through two socat processes joined by a Unix socket on the shared /tmp.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The directories each node gets privately (DESIGN.md "The substrate").
NODE_BINDS = ("/var/lib/ganeti", "/var/log/ganeti", "/run/ganeti", "/etc/ganeti", "/srv", "/root/.ssh")


def say(message: str) -> None:
    """Print a progress line on stderr (stdout stays free for machine-readable output)."""
    sys.stderr.write(f"[lab] {message}\n")
    sys.stderr.flush()


def run(*argv: str, check: bool = True, capture: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command; on failure raise with its output so the lab log says why."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if not capture and proc.stdout.strip():
        sys.stderr.write(proc.stdout)
    return proc


@dataclass(frozen=True)
class Node:
    """One simulated machine: its namespace names, hostname, address and private directories."""

    lab: Path
    prefix: str
    cluster: str
    index: int
    subnet: int

    @property
    def short(self) -> str:
        """Short host name, e.g. ``a1``."""
        return f"{self.cluster}{self.index}"

    @property
    def fqdn(self) -> str:
        """Fully qualified name Ganeti sees for this node."""
        return f"{self.short}.nefos.lab"

    @property
    def ip(self) -> str:
        """The node's primary address (inside the cluster's private subnet)."""
        return f"10.77.{self.subnet}.{10 + self.index}"

    @property
    def netns(self) -> str:
        """Name of the node's network namespace."""
        return f"{self.prefix}-{self.short}"

    @property
    def root(self) -> Path:
        """Directory holding the node's private copies of the bound directories."""
        return self.lab / "nodes" / self.short

    @property
    def mnt_file(self) -> Path:
        """Bind-mounted handle of the node's mount namespace."""
        return self.lab / "ns" / f"{self.short}.mnt"

    @property
    def uts_file(self) -> Path:
        """Bind-mounted handle of the node's UTS namespace."""
        return self.lab / "ns" / f"{self.short}.uts"

    def private_dir(self, target: str) -> Path:
        """Where the node's own copy of ``target`` (one of NODE_BINDS) lives."""
        return self.root / target.strip("/").replace("/", "_")

    def enter(self) -> list[str]:
        """Argument prefix that runs a command inside this node's namespaces."""
        return [
            "nsenter",
            f"--net=/run/netns/{self.netns}",
            f"--mount={self.mnt_file}",
            f"--uts={self.uts_file}",
            "--",
        ]

    def sh(self, script: str, *, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a shell snippet inside the node."""
        return run(*self.enter(), "sh", "-ec", script, check=check, capture=True, timeout=timeout)


def netns_exists(name: str) -> bool:
    """True when a named network namespace exists."""
    return Path(f"/run/netns/{name}").exists()


def make_switch(name: str) -> None:
    """Create a switch namespace holding bridge ``br0`` (no address, no route)."""
    run("ip", "netns", "add", name)
    run("ip", "-n", name, "link", "set", "lo", "up")
    run("ip", "-n", name, "link", "add", "br0", "type", "bridge")
    run("ip", "-n", name, "link", "set", "br0", "up")


def private_ns_dir(lab: Path) -> Path:
    """Make ``lab/ns`` a private bind mount so namespace handles can be bind-mounted in it."""
    ns_dir = lab / "ns"
    ns_dir.mkdir(parents=True, exist_ok=True)
    mounts = Path("/proc/self/mountinfo").read_text()
    if f" {ns_dir} " not in mounts:
        run("mount", "--bind", str(ns_dir), str(ns_dir))
        run("mount", "--make-private", str(ns_dir))
    return ns_dir


def make_node(node: Node, switch: str, hosts_file: Path) -> None:
    """Create the node's namespaces, cable it to the switch, and bind its private directories."""
    run("ip", "netns", "add", node.netns)
    port = f"p-{node.short}"
    run("ip", "-n", switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node.netns)
    run("ip", "-n", switch, "link", "set", port, "master", "br0", "up")
    run("ip", "-n", node.netns, "link", "set", "lo", "up")
    run("ip", "-n", node.netns, "addr", "add", f"{node.ip}/24", "dev", "eth0")
    run("ip", "-n", node.netns, "link", "set", "eth0", "up")
    # The bridge Ganeti's default NIC parameters name (instances' NICs attach to it).
    run("ip", "-n", node.netns, "link", "add", "gnt0", "type", "bridge")
    run("ip", "-n", node.netns, "link", "set", "gnt0", "up")
    for target in NODE_BINDS:
        Path(target).mkdir(parents=True, exist_ok=True)
    node.mnt_file.touch()
    node.uts_file.touch()
    binds = " ".join(f"mount --bind {node.private_dir(t)} {t};" for t in NODE_BINDS)
    script = (
        f"hostname {node.fqdn}; umount -l /sys; mount -t sysfs sysfs /sys; "
        f"mount --bind {hosts_file} /etc/hosts; {binds}"
    )
    # nsenter keeps us in the root mount namespace, so unshare's handle bind mounts persist there.
    run(
        "nsenter",
        f"--net=/run/netns/{node.netns}",
        "--",
        "unshare",
        f"--mount={node.mnt_file}",
        f"--uts={node.uts_file}",
        "--propagation",
        "private",
        "sh",
        "-ec",
        script,
    )


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(argv: list[str], log: Path) -> int:
    """Start a long-running helper in its own session; returns its PID."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


def forward(node: Node, sock_path: Path, target_port: int, log: Path) -> tuple[int, int, int]:
    """Expose ``127.0.0.1:target_port`` inside the node on a loopback port of the root namespace.

    Returns (root port, PID of the in-namespace socat, PID of the root-namespace socat).
    """
    inner = spawn(
        [
            "nsenter",
            f"--net=/run/netns/{node.netns}",
            "--",
            "socat",
            f"UNIX-LISTEN:{sock_path},fork,unlink-early,mode=600",
            f"TCP:127.0.0.1:{target_port}",
        ],
        log,
    )
    for _ in range(50):
        if sock_path.exists():
            break
        time.sleep(0.1)
    port = free_port()
    return port, inner, start_outer(port, sock_path, log)


def start_outer(port: int, sock_path: Path, log: Path, timeout: float = 10.0) -> int:
    """Start the root-namespace half of a forwarder (loopback ``port`` -> ``sock_path``); its PID.

    Returns once the port accepts connections, so a caller can use it at once.
    """
    pid = spawn(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"UNIX-CONNECT:{sock_path}"], log)
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"forwarder on 127.0.0.1:{port} did not start (see {log})")
        time.sleep(0.05)
    return pid


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def kill_pid(pid: int, grace: float = 5.0) -> None:
    """Terminate one process we started (TERM, then KILL after ``grace`` seconds)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def kill_group(pid: int, grace: float = 5.0) -> None:
    """Terminate a helper we started with `spawn` and the children it forked (its process group).

    `spawn` makes every helper a session leader, so its group holds only that helper and its
    forks (socat forks one child per connection: killing the parent alone leaves open
    connections working).
    """
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    if pgid != pid:  # not a group leader we made: only the process itself
        kill_pid(pid, grace)
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return


def netns_pids(name: str) -> list[int]:
    """PIDs of the processes living in one of the lab's network namespaces."""
    if not netns_exists(name):
        return []
    proc = run("ip", "netns", "pids", name, check=False, capture=True)
    return [int(p) for p in proc.stdout.split() if p.isdigit()]


def remove_netns(name: str) -> None:
    """Kill what still runs in a lab namespace, then delete it."""
    for pid in netns_pids(name):
        kill_pid(pid, grace=2.0)
    if netns_exists(name):
        run("ip", "netns", "del", name, check=False)


def unmount(path: Path) -> None:
    """Lazily unmount ``path`` if it is a mount point."""
    if f" {path} " in Path("/proc/self/mountinfo").read_text():
        run("umount", "-l", str(path), check=False)
