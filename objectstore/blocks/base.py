"""The block store interface: content-addressed blocks keyed by their SHA-256 hex digest.

A backend stores immutable byte strings under their own hash. The filesystem backend is the
default; a Ceph RADOS backend (one RADOS object per block, named by its hash) fits the same
five operations and can be added without touching the services.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


class BlockError(Exception):
    """Base of block store failures (never raised for bad client input)."""


class BlockMissing(BlockError):
    """A block named by a hashmap is not in the store."""


class BlockCorrupt(BlockError):
    """A stored block no longer matches its hash; its bytes are never returned."""


@dataclass(frozen=True)
class BlockInfo:
    """A stored block as GC sees it: its hash and when it was last written or touched (epoch seconds)."""

    digest: str
    mtime: float


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
        """The bytes of a block, verified against its hash (BlockMissing, BlockCorrupt)."""

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
