"""Fixtures of the lab service tests: the portal's services driving the Ganeti lab's clusters A and B.

A test module uses them with `pytest_plugins = ["tests.backend_ganeti.lab_services"]`. `lab_portal`
registers both lab clusters with `clusters.add_cluster`, records the job pks the services hand to
Celery (on commit) and runs them in-process with the Celery task itself (`tasks.run_job`), and
destroys, through the driver, every instance a test named, also when the test fails. It also
reaches into the lab (`scripts/lab/ganeti_lab.py exec`, `pause-rapi`, `resume-rapi`), which needs
root, like the lab. It has no asserts to rewrite (PYTEST_DONT_REWRITE).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from backend_ganeti import tasks
from backend_ganeti.drivers.ganeti import GanetiDriver
from backend_ganeti.drivers.types import CreateSpec, JobStatus
from backend_ganeti.models import Cluster, Job
from backend_ganeti.rapi import RapiError
from backend_ganeti.services import clusters
from tests.backend_ganeti.conftest import client_for

LAB_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "lab" / "ganeti_lab.py"
CLEANUP_TIMEOUT = 180.0


def lab_dir() -> Path | None:
    """The running lab's directory: `dir` in NEFOS_LAB_RAPI's document, else the file's directory."""
    raw = os.environ.get("NEFOS_LAB_RAPI", "").strip()
    if not raw:
        return None
    if raw.startswith("{"):
        directory = json.loads(raw).get("dir")
        return Path(directory) if directory else None
    directory = json.loads(Path(raw).read_text()).get("dir")
    return Path(directory) if directory else Path(raw).resolve().parent


def lab_command(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `ganeti_lab.py COMMAND --dir DIR ARGS...` against the running lab (needs root)."""
    directory = lab_dir()
    if directory is None or not (directory / "state.json").exists():
        pytest.skip("the lab's directory is not known or not readable (NEFOS_LAB_RAPI)")
    if os.geteuid() != 0:
        pytest.skip("reaching into the lab's nodes needs root, like the lab itself")
    command, *rest = args
    argv = [sys.executable, str(LAB_SCRIPT), command, "--dir", str(directory), *rest]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def wait_finished(driver: GanetiDriver, job_id: str, timeout: float = CLEANUP_TIMEOUT) -> JobStatus:
    """Follow a cluster job until it ends (for clean-up, outside the portal)."""
    deadline = time.monotonic() + timeout
    status = driver.job(job_id)
    while not status.finished and time.monotonic() < deadline:
        status = driver.wait_job(job_id, previous=status, timeout=30)
    return status


@dataclass
class LabPortal:
    """The lab's clusters as the portal knows them, and the jobs the services queued."""

    endpoints: dict[str, dict]
    clusters: dict[str, Cluster] = field(default_factory=dict)
    queued: list[int] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)

    # --- naming and specs ----------------------------------------------------------------------
    def name(self, purpose: str) -> str:
        """A fresh instance name, registered for clean-up before anything creates it."""
        name = f"svc-{purpose}-{uuid.uuid4().hex[:8]}.nefos.lab"
        self.names.add(name)
        return name

    def spec(self, name: str, **fields: Any) -> CreateSpec:
        """A small diskless instance (the instance policy wants >= 1 NIC: the default one)."""
        values: dict[str, Any] = {"name": name, "vcpus": 1, "memory_mb": 128, "disk_template": "diskless"}
        values.update(fields)
        return CreateSpec(disks=(), **values)

    def nodes(self, key: str) -> list[str]:
        """A cluster's nodes, master first."""
        endpoint = self.endpoints[key]
        return sorted(endpoint["nodes"], key=lambda node: node != endpoint["master"])

    def driver(self, key: str) -> GanetiDriver:
        """A driver straight to a lab cluster (to check what the cluster says; close it after use)."""
        return GanetiDriver(client_for(self.endpoints[key]))

    # --- the job watcher -------------------------------------------------------------------------
    def run_jobs(self) -> list[str]:
        """Run every job the services queued, in order, with the Celery task's own body; their results."""
        results = []
        while self.queued:
            results.append(tasks.run_job(self.queued.pop(0)))
        return results

    def finish(self, job: Job) -> Job:
        """Run the queued jobs, then `job` as the database has it."""
        self.run_jobs()
        return Job.objects.get(pk=job.pk)

    # --- reaching into the lab -------------------------------------------------------------------
    def node_exec(self, node: str, *argv: str) -> str:
        """Run a command inside a lab node (e.g. gnt-instance behind the portal's back); its stdout."""
        proc = lab_command("exec", node.split(".")[0], "--", *argv)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} on {node} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        return proc.stdout

    def pause_rapi(self, key: str) -> None:
        """Stop cluster `key`'s forwarder: its RAPI URL refuses connections until `resume_rapi`."""
        self.paused.add(key)
        proc = lab_command("pause-rapi", key)
        if proc.returncode != 0:
            raise AssertionError(f"pause-rapi {key} failed: {proc.stderr}")

    def resume_rapi(self, key: str) -> None:
        """Start cluster `key`'s forwarder again (same port)."""
        proc = lab_command("resume-rapi", key)
        if proc.returncode != 0:
            raise AssertionError(f"resume-rapi {key} failed: {proc.stderr}")
        self.paused.discard(key)

    # --- clean-up --------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Resume paused forwarders, then destroy through the driver every instance a test named."""
        for key in sorted(self.paused):
            self.resume_rapi(key)
        for key in self.endpoints:
            driver = self.driver(key)
            try:
                mine = [inst for inst in driver.client.instances(bulk=True) if inst.name in self.names]
                # Removal shuts a guest down first, waiting up to 120 s for a kvm guest that ignores
                # ACPI: those (hvparams name a kvm_path) are stopped at once. Jobs are submitted
                # together and run in parallel.
                kvm_up = [i.name for i in mine if "kvm_path" in (i.raw.get("hvparams") or {}) and i.admin_state == "up"]
                for job_id in [driver.stop(name, timeout=0) for name in kvm_up]:
                    wait_finished(driver, job_id)
                for job_id in [driver.destroy(inst.name) for inst in mine]:
                    wait_finished(driver, job_id)
            except RapiError as exc:
                sys.stderr.write(f"clean-up of cluster {key} failed: {exc}\n")
            finally:
                driver.close()


@pytest.fixture
def lab_portal(lab, transactional_db, monkeypatch) -> Iterator[LabPortal]:
    """Both lab clusters registered with the portal (`lab-a`, `lab-b`); jobs run by `run_jobs`."""
    portal = LabPortal(endpoints=lab)
    monkeypatch.setattr(tasks.run_job, "delay", portal.queued.append)
    try:
        for key, endpoint in sorted(lab.items()):
            portal.clusters[key] = clusters.add_cluster(
                name=f"lab-{key}",
                kind=Cluster.Kind.GANETI,
                endpoint=endpoint["url"],
                username=endpoint["username"],
                password=endpoint["password"],
                ca_file=endpoint["ca_file"],
                actor=None,
            )
        yield portal
    finally:
        portal.cleanup()
