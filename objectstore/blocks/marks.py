"""Verified marks: an xattr on a block file recording the file state its bytes were last hashed in.

A block file is written once (temp file + rename) and never modified in place by Nefos. Its mark
`user.nefos.verified` holds `<digest>:<inode>:<size>:<mtime_ns>@<epoch seconds>`: the block's own
name, the file's identity and length, its modification time, and when the bytes were hashed and
found intact. In `changed` read mode a read whose file still matches its mark skips the SHA-256.

What a mark catches: a write into the file (mtime moves), truncation or growth (size), another
file renamed or copied over it (inode, or a mark naming another digest), a file without a mark.
What it does not catch: bytes that change without the file's metadata changing (media bit rot, a
write to the raw device, a writer that restores the mtime afterwards, or a write within the same
timestamp tick as the mark was taken on filesystems with coarse timestamps). Those are found by the
scrub (`services.scrub`), which re-hashes every block regardless of its mark. ctime is not part of
the mark because setting the xattr itself moves the ctime.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

XATTR = "user.nefos.verified"
_warned = False


@dataclass(frozen=True)
class Mark:
    """A decoded mark: the fingerprint of the file state that was verified, and when."""

    fingerprint: str
    verified_at: float


def fingerprint(digest: str, st: os.stat_result) -> str:
    """The state of a block file a mark vouches for."""
    return f"{digest}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def read(fd_or_path: int | str) -> Mark | None:
    """The mark of an open block file (or a path), or None when it has none (or it is unreadable)."""
    try:
        raw = os.getxattr(fd_or_path, XATTR).decode("ascii")
    except (OSError, UnicodeDecodeError):
        return None
    stamp, _, when = raw.partition("@")
    try:
        return Mark(stamp, float(when))
    except ValueError:
        return None


def is_current(mark: Mark | None, digest: str, st: os.stat_result) -> bool:
    """Whether `mark` vouches for the file state `st` of block `digest`."""
    return mark is not None and mark.fingerprint == fingerprint(digest, st)


def write(fd: int, digest: str, st: os.stat_result, verified_at: float) -> bool:
    """Record that block `digest` was verified in file state `st`; False when the xattr was refused.

    Setting an xattr changes neither the mtime nor the size, so `st` stays the file's state.
    """
    global _warned
    try:
        os.setxattr(fd, XATTR, f"{fingerprint(digest, st)}@{verified_at:.0f}".encode("ascii"))
    except OSError as exc:
        # Without a mark the block is hashed on its next read (as in `always` mode): correct, only slower.
        if not _warned:
            logger.warning("objectstore block marks unavailable (%s): such blocks are hashed on every read", exc)
            _warned = True
        return False
    return True
