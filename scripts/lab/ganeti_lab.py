#!/usr/bin/env python3
"""Build and tear down real Ganeti 3.0 clusters in network namespaces (the Nefos Ganeti lab).

    ganeti_lab.py up   [--dir DIR] [--a-nodes 2] [--b-nodes 1]   # prints the endpoints file path
    ganeti_lab.py down [--dir DIR]
    ganeti_lab.py exec [--dir DIR] NODE -- CMD...                 # e.g. a1 -- gnt-instance list
    ganeti_lab.py pause-rapi|resume-rapi [--dir DIR] CLUSTER      # stop/start A's or B's forwarder

`up` is idempotent (it tears a half-built lab down first); `down` removes every namespace,
mount, daemon, forwarder and the lab directory. The endpoints file (``DIR/rapi.json``) lists each
cluster's loopback RAPI URL, CA file and credentials; point NEFOS_LAB_RAPI at it. `exec` runs a
command inside a node (its exit status is the command's); `pause-rapi` stops the root-namespace
forwarder of a cluster (its RAPI URL then refuses connections) and `resume-rapi` restarts it on
the same port. See docs/ganeti-lab.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labnet  # sibling module of this script
from labnet import Node, run, say

PREFIX = "nefoslab"
RAPI_USER = "nefos"
SUBNETS = {"a": 1, "b": 2}
# qemu-system-x86 for the kvm hypervisor (socat too: Ganeti's kvm talks to QEMU's monitor with it).
PACKAGES = ("ganeti", "socat", "openssh-server", "qemu-system-x86")
# Cluster-wide kvm parameters: QEMU's TCG (qemu-system-x86_64 prefers TCG; Debian's /usr/bin/kvm
# would take /dev/kvm when present), no kernel (guests run in their firmware: there is no image),
# VNC on the node's address, inside its namespace. The console Ganeti reports stays the serial one
# (its default): with serial_console=false Ganeti 3.0.2 cannot report the VNC console at all
# (luxid fails to parse the `display` field, RAPI answers 500).
KVM_PARAMS = "kvm_flag=disabled,kvm_path=/usr/bin/qemu-system-x86_64,kernel_path=,vnc_bind_address=0.0.0.0"
NOOP_OS = ("create", "import", "export", "rename", "verify")


def default_dir() -> Path:
    """The lab directory: $LAB_DIR, else a fixed name under the temp dir."""
    return Path(os.environ.get("LAB_DIR") or Path(tempfile.gettempdir()) / "nefos-lab")


def ensure_packages() -> float:
    """apt-get install Ganeti, socat, sshd and QEMU when missing (Debian 12's ganeti is 3.0.x).

    Returns the seconds it took (about 0 when everything is installed).
    """
    started = time.monotonic()
    missing = []
    for pkg in PACKAGES:
        proc = run("dpkg-query", "-W", "-f=${Status}", pkg, check=False, capture=True)
        if "install ok installed" not in proc.stdout:
            missing.append(pkg)
    if missing:
        say(f"installing {' '.join(missing)}")
        env_run = ["env", "DEBIAN_FRONTEND=noninteractive"]
        run(*env_run, "apt-get", "update", "-qq", timeout=600)
        run(*env_run, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, timeout=1200)
    return time.monotonic() - started


def make_rapi_cert(path: Path, cluster_name: str) -> None:
    """A self-signed RAPI certificate valid for the loopback forwarder (127.0.0.1/localhost)."""
    run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        "-subj", f"/CN={cluster_name}",
        "-addext", f"subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:{cluster_name}",
        "-keyout", str(path.with_suffix(".key")), "-out", str(path.with_suffix(".crt")),
        capture=True,
    )  # fmt: skip
    path.write_text(path.with_suffix(".key").read_text() + path.with_suffix(".crt").read_text())
    path.chmod(0o400)


def prepare_node_dirs(node: Node, ssh_dir: Path) -> None:
    """Create the node's private directories, its no-op OS and file-storage configuration."""
    for target in labnet.NODE_BINDS:
        node.private_dir(target).mkdir(parents=True, exist_ok=True)
    etc = node.private_dir("/etc/ganeti")
    shutil.copytree("/etc/ganeti", etc, symlinks=True, dirs_exist_ok=True)
    (etc / "file-storage-paths").write_text("/srv/ganeti/file-storage\n")
    srv = node.private_dir("/srv")
    (srv / "ganeti" / "file-storage").mkdir(parents=True, exist_ok=True)
    os_dir = srv / "ganeti" / "os" / "noop"
    os_dir.mkdir(parents=True, exist_ok=True)
    (os_dir / "ganeti_api_version").write_text("20\n")
    (os_dir / "parameters.list").write_text("")  # required by OS API 20
    for script in NOOP_OS:
        (os_dir / script).write_text("#!/bin/sh\n# A no-op OS: the lab's guests have no real disk image.\nexit 0\n")
        (os_dir / script).chmod(0o755)
    shutil.copytree(ssh_dir, node.private_dir("/root/.ssh"), dirs_exist_ok=True)


def make_ssh_dir(lab: Path, cluster: str) -> Path:
    """One root key pair per cluster, authorised on all its nodes (what `gnt-node add` uses)."""
    ssh_dir = lab / f"ssh-{cluster}"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ssh_dir / "id_ed25519"
    if not key.exists():
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key), capture=True)
    (ssh_dir / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    (ssh_dir / "config").write_text("StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\nLogLevel ERROR\n")
    return ssh_dir


def start_sshd(node: Node) -> None:
    """Run sshd inside the node on its own address (needed by `gnt-node add`)."""
    Path("/run/sshd").mkdir(exist_ok=True)
    node.sh(
        f"/usr/sbin/sshd -o ListenAddress={node.ip} -o PidFile=/run/ganeti/sshd.pid "
        "-o PermitRootLogin=prohibit-password -o UsePAM=no"
    )


def init_cluster(master: Node, cluster_name: str) -> float:
    """`gnt-cluster init` on the master; returns the seconds it took."""
    started = time.monotonic()
    master.sh(
        "gnt-cluster init --enabled-hypervisors=fake,kvm --enabled-disk-templates=diskless,file "
        "--no-ssh-init --no-etc-hosts --master-netdev=eth0 --nic-parameters=mode=bridged,link=gnt0 "
        f"--file-storage-dir=/srv/ganeti/file-storage -H kvm:{KVM_PARAMS} "
        f"{cluster_name}",
        timeout=300,
    )
    return time.monotonic() - started


def add_node(master: Node, node: Node) -> float:
    """`gnt-node add` of a second node from the master; returns the seconds it took."""
    started = time.monotonic()
    master.sh(f"gnt-node add --no-ssh-key-check {node.fqdn}", timeout=300)
    return time.monotonic() - started


def wait_rapi(master: Node, password: str, ca_file: Path, timeout: float = 60) -> float:
    """Wait until the master's RAPI answers an authenticated, verified request; returns seconds waited."""
    started = time.monotonic()
    while True:
        proc = master.sh(
            f"curl -sS --cacert {ca_file} -o /dev/null -w '%{{http_code}}' -u {RAPI_USER}:{password} "
            "https://localhost:5080/2/info",
            check=False,
        )
        if proc.stdout.strip() == "200":
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"RAPI on {master.fqdn} not ready: {proc.stdout} {proc.stderr}")
        time.sleep(0.5)


def build_cluster(lab: Path, cluster: str, n_nodes: int, state: dict) -> dict:
    """Create one cluster's switch and nodes, init Ganeti, add nodes, expose RAPI."""
    subnet = SUBNETS[cluster]
    nodes = [Node(lab, PREFIX, cluster, i, subnet) for i in range(1, n_nodes + 1)]
    master = nodes[0]
    cluster_name = f"cluster-{cluster}.nefos.lab"
    switch = f"{PREFIX}-sw{cluster}"
    state["netns"].append(switch)
    labnet.make_switch(switch)
    hosts = lab / f"hosts-{cluster}"
    lines = ["127.0.0.1 localhost", f"10.77.{subnet}.10 {cluster_name}"]
    lines += [f"{n.ip} {n.fqdn} {n.short}" for n in nodes]
    hosts.write_text("\n".join(lines) + "\n")
    ssh_dir = make_ssh_dir(lab, cluster)
    for node in nodes:
        prepare_node_dirs(node, ssh_dir)
        state["netns"].append(node.netns)
        state["nodes"].append({"cluster": cluster, "index": node.index})
        labnet.make_node(node, switch, hosts)
    password = secrets.token_urlsafe(18)
    timings: dict[str, float] = {"init_s": init_cluster(master, cluster_name)}
    say(f"cluster {cluster}: gnt-cluster init took {timings['init_s']:.1f} s")
    # Written before ganeti-rapi restarts below, and atomically: rapi runs as gnt-rapi and
    # re-reads the file on inotify events, so a root-owned half-written file means 401s.
    users = master.private_dir("/var/lib/ganeti") / "rapi" / "users"
    users.parent.mkdir(parents=True, exist_ok=True)
    tmp_users = users.with_name(".users.tmp")
    tmp_users.write_text(f"{RAPI_USER} {password} write\n")
    tmp_users.chmod(0o640)
    shutil.chown(tmp_users, "gnt-rapi", "gnt-masterd")
    tmp_users.rename(users)
    # Ganeti's own RAPI certificate names the node; ours also names the loopback forwarder.
    cert = master.private_dir("/root/.ssh").parent / "rapi-lab.pem"
    make_rapi_cert(cert, cluster_name)
    started = time.monotonic()
    # (`gnt-cluster renew-crypto --rapi-certificate` reports success but leaves rapi.pem as it was.)
    master.sh(
        "/usr/lib/ganeti/daemon-util stop ganeti-rapi; "
        f"install -o gnt-rapi -g gnt-masterd -m 0440 {cert} /var/lib/ganeti/rapi.pem; "
        "/usr/lib/ganeti/daemon-util start ganeti-rapi"
    )
    timings["rapi_cert_s"] = time.monotonic() - started
    timings["rapi_ready_s"] = wait_rapi(master, password, cert.with_suffix(".crt"))
    for node in nodes[1:]:
        start_sshd(master)
        start_sshd(node)
        timings[f"node_add_{node.short}_s"] = add_node(master, node)
    ca_file = lab / f"ca-{cluster}.crt"
    shutil.copy(cert.with_suffix(".crt"), ca_file)
    sock = lab / f"rapi-{cluster}.sock"
    port, inner, outer = labnet.forward(master, sock, 5080, lab / "forwarders.log")
    state["pids"] += [inner, outer]
    state["forwarders"][cluster] = {"port": port, "sock": str(sock), "outer": outer}
    say(f"cluster {cluster}: {', '.join(n.fqdn for n in nodes)}; RAPI on https://127.0.0.1:{port}; {timings}")
    return {
        "name": cluster,
        "cluster_name": cluster_name,
        "url": f"https://127.0.0.1:{port}",
        "ca_file": str(ca_file),
        "username": RAPI_USER,
        "password": password,
        "master": master.fqdn,
        "nodes": [n.fqdn for n in nodes],
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }


def save_state(lab: Path, state: dict) -> None:
    """Write what `down` needs to undo (written before each step, so a crash leaves a trail)."""
    (lab / "state.json").write_text(json.dumps(state, indent=1))


def up(lab: Path, a_nodes: int, b_nodes: int) -> Path:
    """Build cluster A and cluster B; returns the endpoints file."""
    started = time.monotonic()
    packages_s = ensure_packages()
    if lab.exists():
        down(lab)
    lab.mkdir(mode=0o700, parents=True)
    labnet.private_ns_dir(lab)
    state: dict = {"netns": [], "nodes": [], "pids": [], "forwarders": {}}
    clusters = []
    try:
        for cluster, count in (("a", a_nodes), ("b", b_nodes)):
            if count < 1:
                continue
            save_state(lab, state)
            clusters.append(build_cluster(lab, cluster, count, state))
            save_state(lab, state)
    finally:
        save_state(lab, state)
    endpoints = lab / "rapi.json"
    total = round(time.monotonic() - started, 2)
    document = {"clusters": clusters, "dir": str(lab), "packages_s": round(packages_s, 2), "up_s": total}
    endpoints.write_text(json.dumps(document, indent=1))
    endpoints.chmod(0o600)
    say(f"lab up in {total} s; endpoints: {endpoints}")
    return endpoints


def down(lab: Path) -> None:
    """Stop daemons in every node, kill forwarders, remove namespaces, mounts and the directory."""
    started = time.monotonic()
    state_file = lab / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {"netns": [], "nodes": [], "pids": []}
    for pid in state["pids"]:
        labnet.kill_group(pid)
    for entry in state["nodes"]:
        node = Node(lab, PREFIX, entry["cluster"], entry["index"], SUBNETS[entry["cluster"]])
        if labnet.netns_exists(node.netns) and node.mnt_file.exists():
            try:
                node.sh("/usr/lib/ganeti/daemon-util stop-all", check=False, timeout=120)
                node.sh("[ -f /run/ganeti/sshd.pid ] && kill $(cat /run/ganeti/sshd.pid) || true", check=False)
            except subprocess.TimeoutExpired:
                say(f"stopping daemons on {node.fqdn} timed out; killing its processes")
    for name in reversed(state["netns"]):
        labnet.remove_netns(name)
    ns_dir = lab / "ns"
    if ns_dir.exists():
        for handle in ns_dir.iterdir():
            labnet.unmount(handle)
        labnet.unmount(ns_dir)
    shutil.rmtree(lab, ignore_errors=True)
    say(f"lab down in {round(time.monotonic() - started, 2)} s")


def load_state(lab: Path) -> dict:
    """The running lab's state file (RuntimeError when `lab` holds no lab)."""
    state_file = lab / "state.json"
    if not state_file.exists():
        raise RuntimeError(f"no lab in {lab} (run `up` first)")
    return json.loads(state_file.read_text())


def find_node(lab: Path, state: dict, name: str) -> Node:
    """A node of the lab by short name (``a1``) or FQDN (``a1.nefos.lab``)."""
    for entry in state["nodes"]:
        node = Node(lab, PREFIX, entry["cluster"], entry["index"], SUBNETS[entry["cluster"]])
        if name in (node.short, node.fqdn):
            return node
    raise RuntimeError(f"no node {name} in the lab in {lab}")


def exec_in_node(lab: Path, name: str, argv: list[str]) -> int:
    """Run ``argv`` inside a node (what the lab does internally); returns its exit status."""
    if not argv:
        raise RuntimeError("exec needs a command after --")
    node = find_node(lab, load_state(lab), name)
    return subprocess.run([*node.enter(), *argv], check=False).returncode


def pause_rapi(lab: Path, cluster: str) -> None:
    """Stop a cluster's root-namespace forwarder: its RAPI URL refuses connections until resumed."""
    state = load_state(lab)
    forwarder = state.get("forwarders", {}).get(cluster)
    if forwarder is None:
        raise RuntimeError(f"the lab has no cluster {cluster}")
    if forwarder["outer"]:
        labnet.kill_group(forwarder["outer"])
        state["pids"] = [pid for pid in state["pids"] if pid != forwarder["outer"]]
        forwarder["outer"] = None
        save_state(lab, state)
    say(f"cluster {cluster}: RAPI forwarder on 127.0.0.1:{forwarder['port']} stopped")


def resume_rapi(lab: Path, cluster: str) -> None:
    """Start a paused cluster's forwarder again, on the same port (a no-op when it runs)."""
    state = load_state(lab)
    forwarder = state.get("forwarders", {}).get(cluster)
    if forwarder is None:
        raise RuntimeError(f"the lab has no cluster {cluster}")
    if not forwarder["outer"]:
        pid = labnet.start_outer(forwarder["port"], Path(forwarder["sock"]), lab / "forwarders.log")
        forwarder["outer"] = pid
        state["pids"].append(pid)
        save_state(lab, state)
    say(f"cluster {cluster}: RAPI forwarder on 127.0.0.1:{forwarder['port']} running")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, default=default_dir(), help="lab directory ($LAB_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser("up", parents=[common], help="build the lab")
    up_cmd.add_argument("--a-nodes", type=int, default=2, help="nodes in cluster A (default 2)")
    up_cmd.add_argument("--b-nodes", type=int, default=1, help="nodes in cluster B (default 1)")
    commands.add_parser("down", parents=[common], help="tear the lab down")
    exec_cmd = commands.add_parser("exec", parents=[common], help="run a command inside a node")
    exec_cmd.add_argument("node", help="a1, a2, b1 (or the FQDN)")
    exec_cmd.add_argument("argv", nargs=argparse.REMAINDER, help="-- CMD...")
    for name in ("pause-rapi", "resume-rapi"):
        sub = commands.add_parser(name, parents=[common], help=f"{name.split('-')[0]} a cluster's RAPI forwarder")
        sub.add_argument("cluster", choices=sorted(SUBNETS))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        say("the lab needs root (network namespaces, mounts, apt)")
        return 2
    lab = args.dir.resolve()
    if args.command == "down":
        down(lab)
        return 0
    try:
        if args.command == "exec":
            return exec_in_node(lab, args.node, args.argv[1:] if args.argv[:1] == ["--"] else args.argv)
        if args.command == "pause-rapi":
            pause_rapi(lab, args.cluster)
            return 0
        if args.command == "resume-rapi":
            resume_rapi(lab, args.cluster)
            return 0
    except RuntimeError as exc:
        say(str(exc))
        return 1
    try:
        endpoints = up(lab, args.a_nodes, args.b_nodes)
    except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        say(f"lab up failed: {exc}")
        if os.environ.get("NEFOS_LAB_KEEP_ON_FAILURE") != "1":
            down(lab)
        return 1
    sys.stdout.write(f"{endpoints}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
