"""Streaming reads: the bytes of a version (or of a byte range) as a generator over its blocks.

Only the blocks that overlap the range are read, one at a time, each verified by the block store
as its read mode says (every block hashed, or only blocks that may have changed since they were
last verified; then a partial block reads only the bytes asked for). Each block is one piece of
the stream (4 MiB by default): few, large writes to the socket. The first block is read before
the response starts, so a missing, corrupt or quarantined first block becomes a 503; a later one
aborts the stream (the client sees a short body and its ETag check fails), never wrong bytes.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

from objectstore.blocks import BlockCorrupt, BlockError, BlockStore, block_store
from objectstore.errors import StorageUnavailable
from objectstore.models import ObjectVersion

logger = logging.getLogger(__name__)

# How many blocks ahead of the one being sent the store is asked to fetch (8 MiB at 4 MiB blocks).
PREFETCH_BLOCKS = 2


def _chunks(version: ObjectVersion, start: int, end: int, store: BlockStore) -> Iterator[bytes]:
    """Bytes [start, end] (inclusive) of `version`, one block-sized piece at a time."""
    size = version.block_size
    first, last = start // size, end // size
    hashmap = version.hashmap
    for index in range(first + 1, min(first + PREFETCH_BLOCKS, last + 1)):
        store.prefetch(hashmap[index])
    for index in range(first, last + 1):
        low = start - index * size if index == first else 0
        high = end - index * size + 1 if index == last else size
        piece = store.get_range(hashmap[index], low, high)
        if index + PREFETCH_BLOCKS <= last:
            # Keep the disk busy on the next blocks while this one goes out on the socket.
            store.prefetch(hashmap[index + PREFETCH_BLOCKS])
        yield piece


def unavailable(exc: BlockError) -> StorageUnavailable:
    """The 503 for a block that cannot be served: corrupt (quarantined) or missing, said plainly."""
    if isinstance(exc, BlockCorrupt):
        return StorageUnavailable(
            "The object's data failed its integrity check; it is not served. The error is logged."
        )
    return StorageUnavailable("The object's data is unavailable: a block is missing. The error is logged.")


def open_range(version: ObjectVersion, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """An iterator over bytes [start, end] of a version (the whole of it by default).

    Raises StorageUnavailable when the first block cannot be read intact.
    """
    end = version.size - 1 if end is None else end
    if version.size == 0 or end < start:
        return iter(())
    pieces = _chunks(version, start, end, block_store())
    try:
        head = next(pieces)
    except BlockError as exc:
        raise unavailable(exc) from exc
    return itertools.chain((head,), _guarded(pieces, version))


def _guarded(pieces: Iterator[bytes], version: ObjectVersion) -> Iterator[bytes]:
    """Pass pieces through; a block error mid-stream is logged and ends the response early."""
    try:
        yield from pieces
    except BlockError as exc:
        logger.error("objectstore read aborted: %s %s", type(exc).__name__, exc.args[0], extra={"version": version.pk})
        raise
