"""The filesystem block store: one file per block under `<root>/ab/cd/<hash>`.

Writes go to a temporary file in the target directory, are fsynced and renamed into place, so a
reader sees a whole block or none. Storing a block that exists only refreshes its mtime: garbage
collection spares blocks touched recently, which protects uploads still in progress.

Reads verify per `verify_reads`: `always` hashes every block read; `changed` hashes a block only
when its verified mark (`marks`: an xattr naming the inode, size and mtime the bytes were last
hashed in) does not match the file, and otherwise reads just the bytes asked for. A block that
fails its hash is moved to `<root>/quarantine/` (never deleted) and logged with its hash.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from objectstore.blocks import marks
from objectstore.blocks.base import (
    VERIFY_MODES,
    BlockError,
    BlockInfo,
    BlockMissing,
    BlockQuarantined,
    BlockStore,
    ScrubOutcome,
    ScrubResult,
    block_hash,
    is_block_hash,
)

logger = logging.getLogger(__name__)

QUARANTINE = "quarantine"
_FANOUT = frozenset(f"{i:02x}" for i in range(256))


def _pread(fd: int, length: int, offset: int) -> bytes:
    """Exactly `length` bytes at `offset` (fewer only at end of file)."""
    data = os.pread(fd, length, offset)
    if len(data) == length or not data:
        return data
    parts = [data]
    got = len(data)
    while got < length:
        more = os.pread(fd, length - got, offset + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class FilesystemBlockStore(BlockStore):
    """Blocks as files in fan-out directories (two levels of two hex digits)."""

    def __init__(self, root: Path | str, *, fsync: bool = True, verify_reads: str = "always") -> None:
        if verify_reads not in VERIFY_MODES:
            raise ValueError(f"verify_reads must be one of {VERIFY_MODES}, not {verify_reads!r}")
        self.root = Path(root)
        self.fsync = fsync
        self.verify_reads = verify_reads
        self.quarantine_dir = self.root / QUARANTINE
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        """Where the block named `digest` lives."""
        if not is_block_hash(digest):
            raise ValueError(f"not a block hash: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store a block once; an existing block gets a fresh mtime instead of a rewrite.

        A new block is marked verified: its hash was just computed from these very bytes.
        """
        digest = digest or block_hash(data)
        target = self.path(digest)
        if self._touch_one(target, digest):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
                marks.write(handle.fileno(), digest, os.fstat(handle.fileno()), time.time())
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
        """Read a whole block, verified per the read mode; a mismatch is logged, quarantined, raised."""
        return self._read(digest, 0, None)

    def get_range(self, digest: str, low: int, high: int) -> bytes:
        """Bytes [low, high) of a block: only those are read when the block's mark vouches for it."""
        return self._read(digest, low, high)

    def _read(self, digest: str, low: int, high: int | None) -> bytes:
        """Bytes [low, high) of a block (high None: to its end), hashing the whole block unless the
        mode is `changed` and the block's mark is current."""
        try:
            fd = os.open(self.path(digest), os.O_RDONLY)
        except FileNotFoundError as exc:
            raise self._absent(digest) from exc
        try:
            st = os.fstat(fd)
            mark = marks.read(fd)
            if self.verify_reads == "changed" and marks.is_current(mark, digest, st):
                end = st.st_size if high is None else min(high, st.st_size)
                return _pread(fd, max(end - low, 0), low)
            data = _pread(fd, st.st_size, 0)
            if block_hash(data) != digest:
                target = self._quarantine(digest, st, len(data), found_by="read")
                raise BlockQuarantined(digest, str(target))
            if not marks.is_current(mark, digest, st):
                marks.write(fd, digest, st, time.time())
        except OSError as exc:  # an I/O error (EIO from the disk): unavailable, never a 500
            logger.error("objectstore block unreadable %s: %s", digest, exc, extra={"block": digest})
            raise BlockError(digest) from exc
        finally:
            os.close(fd)
        return data if (low == 0 and (high is None or high >= len(data))) else data[low:high]

    def prefetch(self, digest: str) -> None:
        """Ask the kernel to read a block into the page cache in the background (POSIX_FADV_WILLNEED)."""
        try:
            fd = os.open(self.path(digest), os.O_RDONLY)
        except (OSError, ValueError):
            return  # the read itself will report it
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)

    def scrub(self, digest: str, *, dry_run: bool = False) -> ScrubResult:
        """Re-hash a block regardless of its mark: refresh the mark if intact, else quarantine it."""
        try:
            fd = os.open(self.path(digest), os.O_RDONLY)
        except FileNotFoundError:
            return ScrubResult(ScrubOutcome.MISSING)
        try:
            st = os.fstat(fd)
            try:
                data = _pread(fd, st.st_size, 0)
            except OSError as exc:  # the disk cannot return the bytes: as lost as corrupt ones
                logger.error("objectstore block unreadable %s: %s", digest, exc, extra={"block": digest})
                data = b""
            if data and block_hash(data) == digest:
                if not dry_run:
                    marks.write(fd, digest, st, time.time())
                return ScrubResult(ScrubOutcome.OK, len(data))
        finally:
            os.close(fd)
        if dry_run:
            logger.error("objectstore block corrupt %s (scrub dry run: left in place)", digest)
            return ScrubResult(ScrubOutcome.CORRUPT, len(data))
        target = self._quarantine(digest, st, len(data), found_by="scrub")
        return ScrubResult(ScrubOutcome.CORRUPT, len(data), str(target))

    def _quarantine(self, digest: str, st: os.stat_result, length: int, *, found_by: str) -> Path:
        """Move the block file that failed its hash (`st`) aside, never deleting it; log it with its hash."""
        target = self.quarantine_dir / digest
        if target.exists():
            target = self.quarantine_dir / f"{digest}.{time.time_ns()}"
        path = self.path(digest)
        try:
            # Only the file that was checked: another reader may have moved it and an upload
            # stored the same bytes afresh since (a healed block is not quarantined).
            if os.stat(path).st_ino == st.st_ino:
                self.quarantine_dir.mkdir(exist_ok=True)
                os.rename(path, target)
        except FileNotFoundError:
            target = self.quarantine_dir / digest  # another reader moved it first
        logger.error(
            "objectstore block corrupt %s: quarantined to %s",
            digest,
            target,
            extra={"block": digest, "length": length, "found_by": found_by, "quarantined_to": str(target)},
        )
        return target

    def _absent(self, digest: str) -> BlockMissing | BlockQuarantined:
        """The error for a block file that is not there: quarantined earlier, or plain missing."""
        if any(self.quarantine_dir.glob(f"{digest}*")):
            logger.error("objectstore block quarantined %s", digest, extra={"block": digest})
            return BlockQuarantined(digest)
        logger.error("objectstore block missing %s", digest, extra={"block": digest})
        return BlockMissing(digest)

    def _touch_one(self, target: Path, digest: str) -> bool:
        """Refresh a block's mtime (keeping a current mark current); False when it is not stored."""
        try:
            fd = os.open(target, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            before = os.fstat(fd)
            mark = marks.read(fd)
            os.utime(fd)
            # Only the mtime moved, by our hand: a mark that vouched for the bytes still does.
            if marks.is_current(mark, digest, before):
                marks.write(fd, digest, os.fstat(fd), mark.verified_at)  # type: ignore[union-attr]
        finally:
            os.close(fd)
        return True

    def exists(self, digests: Iterable[str]) -> set[str]:
        """The stored subset of `digests`."""
        return {d for d in set(digests) if is_block_hash(d) and self.path(d).is_file()}

    def touch(self, digests: Iterable[str]) -> set[str]:
        """Refresh the mtime of each block; return the digests that are not stored."""
        missing = set()
        for digest in set(digests):
            try:
                present = self._touch_one(self.path(digest), digest)
            except ValueError:
                present = False
            if not present:
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
        """Every block file with its mtime and mark time (temp files and the quarantine are skipped)."""
        for first in sorted(self.root.iterdir()):
            if first.name not in _FANOUT or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if second.name not in _FANOUT or not second.is_dir():
                    continue
                with os.scandir(second) as entries:
                    for entry in entries:
                        if is_block_hash(entry.name):
                            try:
                                mtime = entry.stat().st_mtime
                            except FileNotFoundError:
                                continue
                            mark = marks.read(entry.path)
                            yield BlockInfo(entry.name, mtime, mark.verified_at if mark else 0.0)

    def stale_temp_files(self, older_than: float | None = None) -> Iterator[Path]:
        """Temporary files left by writers that died (older than `older_than`, default one hour ago)."""
        cutoff = older_than if older_than is not None else time.time() - 3600
        for tmp in self.root.glob("*/*/.tmp-*"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    yield tmp
            except FileNotFoundError:
                continue
