"""Garbage collection of blocks no version references, safe against concurrent uploads.

An upload stores (or, for a block already present, touches) each block as it arrives, and
touches all of them again in the transaction that makes its version current. GC deletes a block
only if (1) its mtime is older than the grace period, (2) it is absent from the live set computed
from every version's hashmap AFTER the candidates were listed, and (3) its mtime is still old
right before the unlink. A block of an upload in progress is fresh, so it is never a candidate;
one of a version committed after the live set was read was touched at that commit, so (3) spares it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from objectstore.blocks import BlockStore, block_store
from objectstore.models import ObjectVersion

logger = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class GcReport:
    """What one collection did."""

    scanned: int
    candidates: int
    deleted: int


def grace_seconds() -> float:
    """How long an unreferenced block is kept (OBJECTSTORE_GC_GRACE_SECONDS, default 6 hours)."""
    return float(getattr(settings, "OBJECTSTORE_GC_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))


def live_hashes() -> set[str]:
    """Every block hash referenced by any version (current, old or expired-but-unpurged)."""
    live: set[str] = set()
    for hashmap in ObjectVersion.objects.values_list("hashmap", flat=True).iterator(chunk_size=2000):
        live.update(hashmap)
    return live


def collect_garbage(*, grace: float | None = None, store: BlockStore | None = None) -> GcReport:
    """Delete unreferenced blocks older than the grace period; returns counts."""
    store = store or block_store()
    cutoff = time.time() - (grace_seconds() if grace is None else grace)
    scanned = 0
    candidates = []
    for info in store.iter_blocks():
        scanned += 1
        if info.mtime < cutoff:
            candidates.append(info.digest)
    live = live_hashes() if candidates else set()
    deleted = sum(1 for digest in candidates if digest not in live and store.delete(digest, older_than=cutoff))
    report = GcReport(scanned=scanned, candidates=len(candidates), deleted=deleted)
    logger.info("objectstore gc", extra={"scanned": scanned, "candidates": len(candidates), "deleted": deleted})
    return report
