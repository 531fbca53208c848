"""Run the libvirt host agent as a real subprocess for tests (`manage.py libvirt_host run`).

`AgentProcess` starts the agent on a socket in a short temp dir (Unix socket paths are limited
to 107 bytes, so not under pytest's long tmp_path), waits until `/info` answers, and is always
stopped by its PID; `agent_dir()` is a context manager that removes the dir afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from backend_ganeti.drivers.libvirt import LibvirtHostDriver
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobStatus
from backend_ganeti.rapi.errors import ClusterUnreachable

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class AgentProcess:
    """One agent process on `root/agent.sock` with its state in `root/state`."""

    def __init__(self, root: Path, *args: str, build_delay: float = 0.2, op_delay: float = 0.05) -> None:
        self.root = root
        self.socket = root / "agent.sock"
        self.state_dir = root / "state"
        self.log_path = root / "agent.log"
        self.args = [
            "--build-delay",
            str(build_delay),
            "--op-delay",
            str(op_delay),
            "--migrate-delay",
            str(op_delay * 2),
            *args,
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the agent process without waiting for it."""
        command = [sys.executable, str(BASE_DIR / "manage.py"), "libvirt_host", "run"]
        command += ["--socket", str(self.socket), "--state-dir", str(self.state_dir), *self.args]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        return self.proc

    def start(self) -> AgentProcess:
        """Start the agent and wait until it answers; raises with its log when it does not."""
        self.spawn()
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.driver().summary()
                return self
            except ClusterUnreachable:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"agent did not answer within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """What the agent printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def driver(self) -> LibvirtHostDriver:
        """A driver on this agent's socket."""
        return LibvirtHostDriver.for_socket(str(self.socket), cluster="test-host", timeout=10.0)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the agent's PID and reap it (no-op when it is not running)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


@contextlib.contextmanager
def agent_dir() -> Iterator[Path]:
    """A short private temp dir, removed afterwards whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="nefos-lvh-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_agent(*args: str, **options: float) -> Iterator[AgentProcess]:
    """An agent for the duration of the block, killed by PID and its dir removed afterwards."""
    with agent_dir() as root:
        agent = AgentProcess(root, *args, **options)
        try:
            yield agent.start()
        finally:
            agent.kill()


def finish(driver: LibvirtHostDriver, job_id: str, *, timeout: float = 20.0) -> JobStatus:
    """Follow a job with the long-poll until it ends; returns its last status."""
    deadline = time.monotonic() + timeout
    status = driver.wait_job(job_id, previous=None, timeout=0)
    while not status.finished:
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} did not finish within {timeout} s: {status}")
        status = driver.wait_job(job_id, previous=status, timeout=5)
    return status


def spec(name: str, *, memory_mb: int = 512, disk_mb: int = 1024, **fields: object) -> CreateSpec:
    """A small file-template instance."""
    return CreateSpec(
        name=name, vcpus=1, memory_mb=memory_mb, disk_template="file", disks=(DiskSpec(size_mb=disk_mb),), **fields
    )
