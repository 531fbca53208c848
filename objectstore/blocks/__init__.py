"""Block storage: the interface (`base`) and the default filesystem backend.

`block_store()` returns the configured store: blocks under `<PORTAL_DATA_DIR>/blocks`
(OBJECTSTORE_BLOCK_DIR overrides the directory), reads verified per OBJECTSTORE_VERIFY_READS
(`changed`, the default: hash a block only when it may have changed since it was last verified;
`always`: hash every block read). See docs/objectstore.md, "Integrity".
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from objectstore.blocks.base import (
    VERIFY_MODES,
    BlockCorrupt,
    BlockError,
    BlockMissing,
    BlockQuarantined,
    BlockStore,
    ScrubOutcome,
    block_hash,
)
from objectstore.blocks.filesystem import FilesystemBlockStore

__all__ = [
    "BlockCorrupt",
    "BlockError",
    "BlockMissing",
    "BlockQuarantined",
    "BlockStore",
    "FilesystemBlockStore",
    "ScrubOutcome",
    "block_hash",
    "block_store",
    "verify_mode",
]

DEFAULT_VERIFY_READS = "changed"


@functools.cache
def _store_at(root: str, verify_reads: str) -> FilesystemBlockStore:
    return FilesystemBlockStore(Path(root), verify_reads=verify_reads)


def verify_mode() -> str:
    """OBJECTSTORE_VERIFY_READS: `always` or `changed` (default); anything else is a configuration error."""
    mode = getattr(settings, "OBJECTSTORE_VERIFY_READS", None) or DEFAULT_VERIFY_READS
    if mode not in VERIFY_MODES:
        raise ImproperlyConfigured(f"OBJECTSTORE_VERIFY_READS must be one of {VERIFY_MODES}, not {mode!r}")
    return mode


def block_store() -> BlockStore:
    """The block store of this deployment (one instance per directory, read mode and process)."""
    root = getattr(settings, "OBJECTSTORE_BLOCK_DIR", None) or Path(settings.DATA_DIR) / "blocks"
    return _store_at(str(root), verify_mode())
