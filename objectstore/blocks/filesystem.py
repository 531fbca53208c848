"""The filesystem block store: one file per block under `<root>/ab/cd/<hash>`.

Writes go to a temporary file in the target directory, are fsynced and renamed into place, so a
reader sees a whole block or none. Storing a block that exists only refreshes its mtime: garbage
collection spares blocks touched recently, which protects uploads still in progress.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from objectstore.blocks.base import BlockCorrupt, BlockInfo, BlockMissing, BlockStore, block_hash, is_block_hash

logger = logging.getLogger(__name__)


class FilesystemBlockStore(BlockStore):
    """Blocks as files in fan-out directories (two levels of two hex digits)."""

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        """Where the block named `digest` lives."""
        if not is_block_hash(digest):
            raise ValueError(f"not a block hash: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store a block once; an existing block gets a fresh mtime instead of a rewrite."""
        digest = digest or block_hash(data)
        target = self.path(digest)
        try:
            os.utime(target)
            return digest
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if self.fsync:
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return digest

    def get(self, digest: str) -> bytes:
        """Read a block and check it against its name; a mismatch is logged and raised."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError as exc:
            logger.error("objectstore block missing", extra={"block": digest})
            raise BlockMissing(digest) from exc
        if block_hash(data) != digest:
            logger.error("objectstore block corrupt", extra={"block": digest, "length": len(data)})
            raise BlockCorrupt(digest)
        return data

    def exists(self, digests: Iterable[str]) -> set[str]:
        """The stored subset of `digests`."""
        return {d for d in set(digests) if is_block_hash(d) and self.path(d).is_file()}

    def touch(self, digests: Iterable[str]) -> set[str]:
        """Refresh the mtime of each block; return the digests that are not stored."""
        missing = set()
        for digest in set(digests):
            try:
                os.utime(self.path(digest))
            except (FileNotFoundError, ValueError):
                missing.add(digest)
        return missing

    def delete(self, digest: str, *, older_than: float | None = None) -> bool:
        """Unlink a block, unless `older_than` is given and the block was touched since."""
        target = self.path(digest)
        try:
            if older_than is not None and target.stat().st_mtime >= older_than:
                return False
            target.unlink()
        except FileNotFoundError:
            return False
        return True

    def iter_blocks(self) -> Iterator[BlockInfo]:
        """Every block file with its mtime (temporary files of unfinished writes are skipped)."""
        for first in sorted(self.root.iterdir()):
            if not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                with os.scandir(second) as entries:
                    for entry in entries:
                        if is_block_hash(entry.name):
                            try:
                                yield BlockInfo(entry.name, entry.stat().st_mtime)
                            except FileNotFoundError:
                                continue

    def stale_temp_files(self, older_than: float | None = None) -> Iterator[Path]:
        """Temporary files left by writers that died (older than `older_than`, default one hour ago)."""
        cutoff = older_than if older_than is not None else time.time() - 3600
        for tmp in self.root.glob("*/*/.tmp-*"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    yield tmp
            except FileNotFoundError:
                continue
