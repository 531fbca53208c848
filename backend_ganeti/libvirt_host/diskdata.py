"""The data plane of the agent: a disk's raw bytes, read (`GET`) and written (`PUT`).

`GET /instances/NAME/disks/D/data` streams the disk file; `PUT` with a `Content-Length` writes
that many bytes at its start (the rest of the disk is kept). `D` is a disk index or a disk name.
These are not jobs: they answer once the bytes have moved. Only `file`-template disks have
bytes; on simulated nodes they are sparse files too (created on demand), so snapshots and
volumes filled from images work on the default demo host. The host lock is held only to find
the file: a disk read while the guest runs is a crash-consistent copy at best.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from backend_ganeti.libvirt_host.errors import BadRequestError, NotFoundError
from backend_ganeti.libvirt_host.host import Host

DATA_PATH = re.compile(r"/instances/([^/]+)/disks/([^/]+)/data")
CHUNK = 1024 * 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class DiskFile:
    """Where a disk's bytes are and how many there are."""

    path: Path
    size: int


def disk_file(host: Host, name: str, disk: str) -> DiskFile:
    """The file of disk `disk` (index or name) of instance `name`, created sparse if missing."""
    with host.lock:
        record = host.record(name)
        if record.disk_template != "file":
            raise BadRequestError(f"instance {name} has no disk files (disk template {record.disk_template})")
        if disk.isdigit():
            index = int(disk)
            found = record.disks[index] if index < len(record.disks) else None
        else:
            found = next((d for d in record.disks if d.name == disk), None)
        if found is None:
            raise NotFoundError(f"instance {name} has no disk {disk}")
        host.sync_disk_files(record)
        return DiskFile(path=Path(host.disk_path(name, found)), size=found.size_mb * MIB)


def read_chunks(target: DiskFile) -> Iterator[bytes]:
    """The disk's `size` bytes in pieces (zeros past a file shorter than the disk)."""
    with target.path.open("rb") as handle:
        remaining = target.size
        while remaining > 0:
            piece = handle.read(min(CHUNK, remaining)) or b"\0" * min(CHUNK, remaining)
            remaining -= len(piece)
            yield piece


def write_from(target: DiskFile, read: Callable[[int], bytes], length: int) -> int:
    """Write `length` bytes from `read` at the start of the disk (not truncating it); fsynced."""
    if length > target.size:
        raise BadRequestError(f"{length} bytes do not fit on a disk of {target.size} bytes")
    fd = os.open(target.path, os.O_WRONLY)
    written = 0
    try:
        while written < length:
            piece = read(min(CHUNK, length - written))
            if not piece:
                raise BadRequestError(f"the request body ended after {written} of {length} bytes")
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view) :]
            written += len(piece)
        os.fsync(fd)
    finally:
        os.close(fd)
    return written
