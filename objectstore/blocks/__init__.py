"""Block storage: the interface (`base`) and the default filesystem backend.

`block_store()` returns the configured store: blocks under `<PORTAL_DATA_DIR>/blocks`
(OBJECTSTORE_BLOCK_DIR overrides the directory).
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings

from objectstore.blocks.base import BlockCorrupt, BlockError, BlockMissing, BlockStore, block_hash
from objectstore.blocks.filesystem import FilesystemBlockStore

__all__ = ["BlockCorrupt", "BlockError", "BlockMissing", "BlockStore", "block_hash", "block_store"]


@functools.cache
def _store_at(root: str) -> FilesystemBlockStore:
    return FilesystemBlockStore(Path(root))


def block_store() -> BlockStore:
    """The block store of this deployment (one instance per directory and process)."""
    root = getattr(settings, "OBJECTSTORE_BLOCK_DIR", None) or Path(settings.DATA_DIR) / "blocks"
    return _store_at(str(root))
