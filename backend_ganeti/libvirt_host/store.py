"""The agent's state dir: one JSON file per domain and per job, a job-id counter, node flags.

Layout under the state dir (mode 0700, files 0600):

    domains/<name>.json   {"record": DomainRecord, "xml": the domain XML last defined}
    jobs/<id>.json        JobRecord (the last `keep` finished jobs and every unfinished one)
    job-serial            the last job id handed out (ids are never reused, even after a crash)
    node-flags.json       {"node1": {"drained": true}, ...}
    detached-disks.json   {"<disk name>": {"size_mb": N}, ...} (files under the disk dir's `_detached/`)
    cluster.json          {"uuid": ...} made on the first start
    nodes/<node>.xml      the generated test-driver node definitions (rewritten at each start)

Every write goes to a temporary file that is fsynced, renamed over the target and followed by an
fsync of the directory, so a crash leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

from backend_ganeti.libvirt_host.records import DomainRecord, JobRecord

# Names the agent accepts for instances; they double as file names.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` durably (temp file + fsync + rename + directory fsync)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _dump(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True).encode()


class StateStore:
    """Reads and writes the state dir; callers serialise access (the host and job locks)."""

    def __init__(self, root: Path) -> None:
        """Create the directory layout if missing."""
        self.root = root
        self.domains_dir = root / "domains"
        self.jobs_dir = root / "jobs"
        self.nodes_dir = root / "nodes"
        for directory in (root, self.domains_dir, self.jobs_dir, self.nodes_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._serial_path = root / "job-serial"
        self._last_job_id = self._read_serial()

    # --- domains ---------------------------------------------------------------------------
    def _domain_path(self, name: str) -> Path:
        if not NAME_RE.match(name):
            raise ValueError(f"invalid instance name {name!r}")
        return self.domains_dir / f"{name}.json"

    def save_domain(self, record: DomainRecord, xml: str) -> None:
        """Persist one domain's record and XML."""
        atomic_write(self._domain_path(record.name), _dump({"record": record.to_dict(), "xml": xml}))

    def delete_domain(self, name: str) -> None:
        """Forget a domain (no error when it is not stored)."""
        self._domain_path(name).unlink(missing_ok=True)

    def load_domains(self) -> list[tuple[DomainRecord, str]]:
        """Every stored domain with its XML, sorted by name."""
        loaded = []
        for path in sorted(self.domains_dir.glob("*.json")):
            data = json.loads(path.read_text())
            loaded.append((DomainRecord.from_dict(data["record"]), str(data.get("xml", ""))))
        return loaded

    # --- jobs ------------------------------------------------------------------------------
    def _read_serial(self) -> int:
        stored = int(self._serial_path.read_text().strip() or 0) if self._serial_path.exists() else 0
        highest = max((int(path.stem) for path in self.jobs_dir.glob("*.json") if path.stem.isdigit()), default=0)
        return max(stored, highest)

    def next_job_id(self) -> int:
        """A new job id, written to disk before it is returned."""
        self._last_job_id += 1
        atomic_write(self._serial_path, f"{self._last_job_id}\n".encode())
        return self._last_job_id

    def save_job(self, job: JobRecord) -> None:
        """Persist one job."""
        atomic_write(self.jobs_dir / f"{job.job_id}.json", _dump(job.to_dict()))

    def delete_job(self, job_id: int) -> None:
        """Drop an old finished job."""
        (self.jobs_dir / f"{job_id}.json").unlink(missing_ok=True)

    def load_jobs(self) -> list[JobRecord]:
        """Every stored job, oldest first."""
        paths = sorted((p for p in self.jobs_dir.glob("*.json") if p.stem.isdigit()), key=lambda p: int(p.stem))
        return [JobRecord.from_dict(json.loads(path.read_text())) for path in paths]

    # --- detached disks ----------------------------------------------------------------------
    def load_detached(self) -> dict[str, dict[str, Any]]:
        """Disks detached from their instance and kept: {disk name: {"size_mb": N}}."""
        path = self.root / "detached-disks.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def save_detached(self, detached: dict[str, dict[str, Any]]) -> None:
        """Persist the detached disks."""
        atomic_write(self.root / "detached-disks.json", _dump(detached))

    # --- node flags and identity -----------------------------------------------------------
    def load_node_flags(self) -> dict[str, dict[str, Any]]:
        """Per-node admin flags (drained)."""
        path = self.root / "node-flags.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def save_node_flags(self, flags: dict[str, dict[str, Any]]) -> None:
        """Persist per-node admin flags."""
        atomic_write(self.root / "node-flags.json", _dump(flags))

    def cluster_uuid(self) -> str:
        """This host's stable identity, made on the first start."""
        path = self.root / "cluster.json"
        if path.exists():
            return str(json.loads(path.read_text())["uuid"])
        value = str(uuid.uuid4())
        atomic_write(path, _dump({"uuid": value}))
        return value
