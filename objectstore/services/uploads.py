"""The upload pipeline: a byte stream cut into blocks, each hashed and stored as it arrives.

Only one block (plus one read chunk) is in memory at a time, whatever the object's size. The
result describes the content (hashmap, size, MD5); `objects.put_object` then makes it visible.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from objectstore.blocks import BlockStore, block_store
from objectstore.errors import ClientDisconnect, StorageUnavailable
from objectstore.limits import MAX_FILE_SIZE
from portal.errors import QuotaExceeded

logger = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024

Reader = Callable[[int], bytes]


@dataclass(frozen=True)
class StoredData:
    """Content already in the block store: its ordered block hashes, size and MD5 hex."""

    hashmap: list[str]
    size: int
    etag: str
    block_size: int


class TooLarge(QuotaExceeded):
    """The body is larger than the largest object this store accepts."""

    def __init__(self) -> None:
        super().__init__("Your request is too large.")


def store_stream(
    read: Reader,
    *,
    block_size: int,
    length: int | None,
    store: BlockStore | None = None,
    max_size: int = MAX_FILE_SIZE,
) -> StoredData:
    """Read `length` bytes (or until EOF when None) from `read`, storing each block as it fills.

    Raises ClientDisconnect when the stream ends before `length`, TooLarge past `max_size`.
    """
    store = store or block_store()
    if length is not None and length > max_size:
        raise TooLarge()
    md5 = hashlib.md5(usedforsecurity=False)
    buffer = bytearray()
    hashmap: list[str] = []
    size = 0
    remaining = length
    while remaining is None or remaining > 0:
        want = min(READ_CHUNK, block_size - len(buffer))
        if remaining is not None:
            want = min(want, remaining)
        piece = read(want)
        if not piece:
            if remaining is not None:
                raise ClientDisconnect(f"Received {size} of {length} bytes.")
            break
        size += len(piece)
        if size > max_size:
            raise TooLarge()
        if remaining is not None:
            remaining -= len(piece)
        md5.update(piece)
        buffer += piece
        if len(buffer) >= block_size:
            hashmap.append(_put(store, bytes(buffer)))
            buffer.clear()
    if buffer:
        hashmap.append(_put(store, bytes(buffer)))
    return StoredData(hashmap=hashmap, size=size, etag=md5.hexdigest(), block_size=block_size)


def _put(store: BlockStore, block: bytes) -> str:
    """Store one block; a failing disk becomes a 503 for the client (and a log entry)."""
    try:
        return store.put(block)
    except OSError as exc:
        logger.error("objectstore block write failed", extra={"error": str(exc)})
        raise StorageUnavailable("The block store cannot take the upload.") from exc


def store_bytes(data: bytes, *, block_size: int, store: BlockStore | None = None) -> StoredData:
    """Store an in-memory byte string (small objects, tests) through the same pipeline."""
    view = memoryview(data)
    offset = 0

    def read(n: int) -> bytes:
        nonlocal offset
        chunk = bytes(view[offset : offset + n])
        offset += len(chunk)
        return chunk

    return store_stream(read, block_size=block_size, length=len(data), store=store)
