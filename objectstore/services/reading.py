"""Streaming reads: the bytes of a version (or of a byte range) as a generator over its blocks.

Only the blocks that overlap the range are read, one at a time, each verified against its hash by
the block store. The first block is read before the response starts, so a missing or corrupt
first block becomes a 503; a later one aborts the stream (the client sees a short body).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

from objectstore.blocks import BlockError, BlockStore, block_store
from objectstore.errors import StorageUnavailable
from objectstore.models import ObjectVersion

logger = logging.getLogger(__name__)


def _chunks(version: ObjectVersion, start: int, end: int, store: BlockStore) -> Iterator[bytes]:
    """Bytes [start, end] (inclusive) of `version`, one block-sized piece at a time."""
    size = version.block_size
    first, last = start // size, end // size
    for index in range(first, last + 1):
        data = store.get(version.hashmap[index])
        low = start - index * size if index == first else 0
        high = end - index * size + 1 if index == last else len(data)
        yield data if (low == 0 and high == len(data)) else data[low:high]


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
        raise StorageUnavailable("The object's data is unavailable.") from exc
    return itertools.chain((head,), _guarded(pieces, version))


def _guarded(pieces: Iterator[bytes], version: ObjectVersion) -> Iterator[bytes]:
    """Pass pieces through; a block error mid-stream is logged and ends the response early."""
    try:
        yield from pieces
    except BlockError:
        logger.error("objectstore read aborted", extra={"version": version.pk})
        raise
