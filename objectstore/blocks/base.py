"""The block store interface: content-addressed blocks keyed by their SHA-256 hex digest.

A backend stores immutable byte strings under their own hash. The filesystem backend is the
default; a Ceph RADOS backend (one RADOS object per block, named by its hash) fits the same
operations and can be added without touching the services.

Integrity: a read never returns bytes that failed their hash check. How often a read hashes is
the store's read mode (`always`, or `changed`: only when the block may have changed since it was
last verified, see `filesystem` and `marks`); `scrub` re-hashes unconditionally. A block that
fails is quarantined (moved aside, never deleted) and reads of it raise BlockQuarantined until
the same bytes are stored again.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class BlockError(Exception):
    """Base of block store failures (never raised for bad client input)."""


class BlockMissing(BlockError):
    """A block named by a hashmap is not in the store."""


class BlockCorrupt(BlockError):
    """A stored block no longer matches its hash; its bytes are never returned."""


class BlockQuarantined(BlockCorrupt):
    """A block was moved aside after failing its hash check; reads fail until it is stored again."""


VERIFY_MODES = ("always", "changed")


class ScrubOutcome(StrEnum):
    """What re-hashing one block found."""

    OK = "ok"
    CORRUPT = "corrupt"
    MISSING = "missing"


@dataclass(frozen=True)
class ScrubResult:
    """One block's scrub: the outcome, its size, and where a corrupt block was moved ("" if not)."""

    outcome: ScrubOutcome
    size: int = 0
    quarantined_to: str = ""


@dataclass(frozen=True)
class BlockInfo:
    """A stored block: its hash, when it was last written or touched, and last verified (epoch seconds).

    `verified_at` is 0 when the store has no record of a verification (the scrub takes those first).
    """

    digest: str
    mtime: float
    verified_at: float = 0.0


def block_hash(data: bytes) -> str:
    """The SHA-256 hex digest that names a block."""
    return hashlib.sha256(data).hexdigest()


def is_block_hash(value: str) -> bool:
    """Whether `value` looks like a block name (64 lowercase hex digits)."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


class BlockStore(ABC):
    """Immutable, content-addressed blocks. Implementations must be safe for concurrent use."""

    @abstractmethod
    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store `data` (once: an existing block is only marked fresh) and return its hash.

        `digest` may pass a hash the caller already computed; it is trusted.
        """

    @abstractmethod
    def get(self, digest: str) -> bytes:
        """The bytes of a block, verified as the read mode says (BlockMissing, BlockCorrupt)."""

    def get_range(self, digest: str, low: int, high: int) -> bytes:
        """Bytes [low, high) of a block, verified like `get` (a backend may read only the range)."""
        data = self.get(digest)
        return data if (low == 0 and high >= len(data)) else data[low:high]

    def prefetch(self, digest: str) -> None:
        """Hint that a block will be read soon (a backend may start reading it); never fails."""
        return None

    @abstractmethod
    def scrub(self, digest: str, *, dry_run: bool = False) -> ScrubResult:
        """Re-hash a block whatever its records say; quarantine it if corrupt (unless `dry_run`)."""

    @abstractmethod
    def exists(self, digests: Iterable[str]) -> set[str]:
        """The subset of `digests` that are stored."""

    @abstractmethod
    def touch(self, digests: Iterable[str]) -> set[str]:
        """Mark blocks as freshly used (GC spares them for its grace period); return the missing ones."""

    @abstractmethod
    def delete(self, digest: str, *, older_than: float | None = None) -> bool:
        """Remove a block; with `older_than`, only if it was not written or touched since then."""

    @abstractmethod
    def iter_blocks(self) -> Iterator[BlockInfo]:
        """Every stored block with its last write time (for garbage collection and scrubbing)."""
