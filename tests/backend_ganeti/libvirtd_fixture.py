"""A private libvirtd for tests of real QEMU guests (`qemu+unix:///system?socket=...`).

`PrivateLibvirtd` runs `libvirtd` as root in its own mount namespace (`unshare --mount
--propagation private`), so it shares nothing with a system libvirtd that may run on the machine:
inside the namespace, directories of a short temp dir are bind-mounted over `/etc/libvirt`
(its own `qemu.conf`, no networks, no filters), `/var/lib/libvirt`, `/var/cache/libvirt`,
`/var/log/libvirt` and `/run/libvirt`, and over `/etc/passwd` and `/etc/group` a copy with a
`libvirt-qemu` user (the QEMU driver looks that build-time default up before it reads
`qemu.conf`, and only `libvirt-daemon-system` would create it). Its sockets are in the temp dir
(`unix_sock_dir`), reached from the root namespace at `qemu+unix:///system?socket=<dir>/sock/libvirt-sock`.

It runs in the foreground as a child of the test (the PID that `Popen` returns is libvirtd's:
`unshare` and `sh` exec into it), with `--timeout` so an orphan left by a killed test run exits
once idle. Network: no libvirt network is defined, so nothing is created in the root namespace
(no bridge, no firewall rule); guests have no NIC. QEMU runs as root with `security_driver =
"none"`, no cgroups, no private /dev, and its stdio to files (no virtlogd).

`stop()` destroys and undefines every domain, kills the QEMU processes whose PIDs libvirt wrote
in its run dir (and only those), stops libvirtd by its PID, removes the temp dir and the empty
mount points it created (unless another process still mounts something there, e.g. a second
private libvirtd under `pytest -n`). `skip_reason()` says why this cannot run here (not root,
missing binaries), or None.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt

from backend_ganeti.libvirt_host.nodes import quiet_libvirt

START_TIMEOUT = 60.0
IDLE_EXIT_SECONDS = 600
# Where a privileged libvirtd keeps state, and the temp-dir subdirectory bound over each.
BIND_DIRS = {
    "/etc/libvirt": "etc",
    "/var/lib/libvirt": "lib",
    "/var/cache/libvirt": "cache",
    "/var/log/libvirt": "log",
    "/run/libvirt": "run",
}
PACKAGES = "libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86"

_LIBVIRTD_CONF = """unix_sock_dir = "{sock}"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:{log}"
"""
_QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
vnc_listen = "127.0.0.1"
"""
# Runs inside the new mount namespace; $1 is the temp dir. `exec` keeps the PID.
_START_SCRIPT = """set -e
T=$1
mount --bind "$T/etc" /etc/libvirt
mount --bind "$T/lib" /var/lib/libvirt
mount --bind "$T/cache" /var/cache/libvirt
mount --bind "$T/log" /var/log/libvirt
mount --bind "$T/run" /run/libvirt
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group
exec libvirtd --config "$T/etc/libvirtd.conf" --pid-file "$T/libvirtd.pid" --timeout {idle}
"""


def skip_reason() -> str | None:
    """Why a private libvirtd cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: a private libvirtd runs as root in its own mount namespace"
    missing = [tool for tool in ("libvirtd", "qemu-system-x86_64", "unshare", "mount") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install --no-install-recommends {PACKAGES})"
    return None


def _with_entry(source: Path, target: Path, name: str, line: str) -> None:
    """Copy `source` to `target`, appending `line` unless an entry called `name` exists."""
    text = source.read_text()
    if not any(entry.split(":", 1)[0] == name for entry in text.splitlines()):
        text = text.rstrip("\n") + "\n" + line + "\n"
    target.write_text(text)
    target.chmod(0o644)


def _mount_points_in_use() -> set[str]:
    """Mount points of every process's mount namespace (field 5 of /proc/PID/mountinfo)."""
    points: set[str] = set()
    for mountinfo in Path("/proc").glob("[0-9]*/mountinfo"):
        with contextlib.suppress(OSError):
            points.update(line.split()[4] for line in mountinfo.read_text().splitlines() if line)
    return points


class PrivateLibvirtd:
    """One libvirtd with all its state in `root` (a short temp dir: socket paths ≤ 107 bytes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "sock" / "libvirt-sock"
        self.uri = f"qemu+unix:///system?socket={self.socket}"
        self.log_path = root / "libvirtd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.created_mount_points: list[Path] = []

    def _prepare(self) -> None:
        for sub in (*BIND_DIRS.values(), "sock"):
            (self.root / sub).mkdir(mode=0o700)
        etc = self.root / "etc"
        (etc / "libvirtd.conf").write_text(_LIBVIRTD_CONF.format(sock=self.socket.parent, log=self.log_path))
        (etc / "qemu.conf").write_text(_QEMU_CONF)
        libvirt_qemu = "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin"
        _with_entry(Path("/etc/passwd"), self.root / "passwd", "libvirt-qemu", libvirt_qemu)
        _with_entry(Path("/etc/group"), self.root / "group", "libvirt-qemu", "libvirt-qemu:x:64055:")
        for mount_point in BIND_DIRS:
            path = Path(mount_point)
            if not path.exists():
                path.mkdir(mode=0o755)
                self.created_mount_points.append(path)

    def start(self) -> PrivateLibvirtd:
        """Start libvirtd and wait until a connection works (QEMU's capabilities are probed then)."""
        self._prepare()
        script = _START_SCRIPT.format(idle=IDLE_EXIT_SECONDS)
        command = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", str(self.root)]
        with (self.root / "stdout.log").open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        quiet_libvirt()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"libvirtd exited with {self.proc.returncode}:\n{self.log()}")
            if self.socket.exists():
                try:
                    conn = libvirt.open(self.uri)
                except libvirt.libvirtError:
                    time.sleep(0.1)
                    continue
                try:
                    conn.getCapabilities()
                finally:
                    conn.close()
                return self
            time.sleep(0.1)
        raise RuntimeError(f"libvirtd did not answer within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """The tail of libvirtd's own output and log."""
        parts = []
        for path in (self.root / "stdout.log", self.log_path):
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def connect(self) -> libvirt.virConnect:
        """A new connection to this libvirtd."""
        return libvirt.open(self.uri)

    def qemu_pid(self, name: str) -> int | None:
        """The PID of domain `name`'s QEMU, from the PID file libvirt writes (None when absent)."""
        path = self.root / "run" / "qemu" / f"{name}.pid"
        try:
            return int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _qemu_pids(self) -> list[int]:
        pids = []
        for path in (self.root / "run" / "qemu").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                pid = int(path.read_text().strip())
                if b"qemu-system" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(pid)
        return pids

    def _remove_domains(self) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            conn = self.connect()
            try:
                for domain in conn.listAllDomains():
                    with contextlib.suppress(libvirt.libvirtError):
                        if domain.isActive():
                            domain.destroy()
                        domain.undefine()
            finally:
                conn.close()

    def stop(self) -> None:
        """Remove every domain, kill leftover QEMUs and libvirtd by PID, remove the dirs."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self._remove_domains()
            for pid in self._qemu_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if self.proc is not None and self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=15)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            in_use = _mount_points_in_use()
            for path in self.created_mount_points:
                if str(path) not in in_use:  # another private libvirtd (pytest -n) may still use it
                    with contextlib.suppress(OSError):
                        path.rmdir()  # only when still empty


@contextlib.contextmanager
def private_libvirtd() -> Iterator[PrivateLibvirtd]:
    """A running private libvirtd for the block; stopped and cleaned up afterwards, also on failure."""
    daemon = PrivateLibvirtd(Path(tempfile.mkdtemp(prefix="nefos-lvd-")))
    try:
        yield daemon.start()
    finally:
        daemon.stop()
