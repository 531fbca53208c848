"""Pithos hashmaps: describe an object as its block hashes, and create objects from known blocks.

A client that already knows the hashes of its data PUTs a hashmap; the server answers with the
hashes it lacks (409), the client POSTs those raw blocks to the container, then repeats the PUT.
Data the server already holds is never transferred again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from objectstore.blocks import BlockError, block_store
from objectstore.blocks.base import is_block_hash
from objectstore.errors import StorageUnavailable, UnprocessableEntity
from objectstore.limits import MAX_FILE_SIZE
from objectstore.models import Container, ObjectVersion
from objectstore.services import charges, objects
from objectstore.services.uploads import Reader, StoredData, store_stream
from portal.errors import Conflict, ValidationFailed

BLOCK_HASH = "sha256"
MAX_HASHMAP_BODY = 4 * 1024 * 1024


class MissingBlocks(Conflict):
    """A hashmap names blocks the server does not have (409 with their list)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("Missing blocks")
        self.missing = missing


@dataclass(frozen=True)
class Hashmap:
    """A parsed, checked hashmap: block size, ordered hashes and total size."""

    block_size: int
    hashes: list[str]
    size: int


def describe(version: ObjectVersion) -> dict[str, Any]:
    """The JSON hashmap of a version (Pithos format)."""
    return {
        "block_size": version.block_size,
        "block_hash": BLOCK_HASH,
        "hashes": list(version.hashmap),
        "bytes": version.size,
    }


def parse_hashmap(body: bytes, container: Container) -> Hashmap:
    """Check a hashmap body against the container (ValidationFailed on anything malformed)."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed("Invalid hashmap: not JSON") from exc
    if not isinstance(doc, dict):
        raise ValidationFailed("Invalid hashmap: not an object")
    hashes, size = doc.get("hashes"), doc.get("bytes")
    block_size = doc.get("block_size", container.block_size)
    if doc.get("block_hash", BLOCK_HASH) != BLOCK_HASH:
        raise ValidationFailed("Invalid hashmap: block_hash must be sha256")
    if block_size != container.block_size:
        raise ValidationFailed(f"Invalid hashmap: block_size must be {container.block_size}")
    if not isinstance(hashes, list) or not all(isinstance(h, str) and is_block_hash(h.lower()) for h in hashes):
        raise ValidationFailed("Invalid hashmap: hashes must be a list of sha256 hex digests")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0 or size > MAX_FILE_SIZE:
        raise ValidationFailed("Invalid hashmap: bytes must be a non-negative integer")
    blocks = -(-size // block_size)
    if len(hashes) != blocks:
        raise ValidationFailed(f"Invalid hashmap: {size} bytes need {blocks} blocks, not {len(hashes)}")
    return Hashmap(block_size=block_size, hashes=[h.lower() for h in hashes], size=size)


def _etag_of(container: Container, name: str, hashmap: Hashmap) -> str:
    """The MD5 of the content: reused from a version of this name with the same blocks (a re-upload),
    else read and checked block by block."""
    known = ObjectVersion.objects.filter(object__container=container, object__name=name, size=hashmap.size)
    for hashes, etag in known.values_list("hashmap", "etag"):
        if hashes == hashmap.hashes:
            return etag
    store = block_store()
    md5 = hashlib.md5(usedforsecurity=False)
    last = len(hashmap.hashes) - 1
    for index, digest in enumerate(hashmap.hashes):
        try:
            data = store.get(digest)
        except BlockError as exc:
            raise StorageUnavailable("A block of the hashmap cannot be read.") from exc
        expected = hashmap.size - last * hashmap.block_size if index == last else hashmap.block_size
        if len(data) != expected:
            raise ValidationFailed(f"Invalid hashmap: block {index} holds {len(data)} bytes, not {expected}")
        md5.update(data)
    return md5.hexdigest()


def put_by_hashmap(
    container: Container,
    name: str,
    hashmap: Hashmap,
    attrs: objects.ObjectAttrs,
    *,
    actor: Any,
    expected_etag: str | None = None,
) -> ObjectVersion:
    """Create a version of `name` from stored blocks; MissingBlocks (409) lists the ones to upload first.

    With `expected_etag`, content whose MD5 differs is refused (422) and nothing is created.
    """
    present = block_store().exists(hashmap.hashes)
    missing = sorted({h for h in hashmap.hashes if h not in present})
    if missing:
        raise MissingBlocks(missing)
    charges.precheck(container.project, hashmap.size)
    etag = _etag_of(container, name, hashmap)
    if expected_etag and expected_etag != etag:
        raise UnprocessableEntity("Unable to process the contained instructions")
    data = StoredData(hashmap=hashmap.hashes, size=hashmap.size, etag=etag, block_size=hashmap.block_size)
    return objects.put_object(container, name, data, attrs, actor=actor)


def upload_blocks(container: Container, read: Reader, length: int | None) -> list[str]:
    """Store a body of raw blocks (cut at the container's block size); returns their hashes.

    Blocks are not charged: the quota is taken when an object made of them is created, and
    blocks no object uses are collected by GC after its grace period.
    """
    return store_stream(read, block_size=container.block_size, length=length).hashmap
