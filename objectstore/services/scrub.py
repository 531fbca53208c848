"""The block scrub: re-hash stored blocks, quarantine corrupt ones, and name the objects they break.

Reads in `changed` mode trust a block whose verified mark matches its file; bytes that rot without
the file's metadata changing are found here. Each block is hashed whatever its mark says; an intact
one gets a fresh mark, a corrupt one is moved to the store's quarantine (never deleted) and logged
with its hash, and from then on reads of objects using it fail with a 503 instead of wrong bytes.
Storing the same bytes again (a re-upload, or a hashmap PUT whose 409 lists the block as missing)
heals every object that uses it.

With a limit, the blocks verified longest ago (never-verified first) are scrubbed, so a periodic
run with a limit walks the whole store over successive runs.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from objectstore.blocks import BlockStore, ScrubOutcome, block_store
from objectstore.blocks.base import BlockInfo
from objectstore.models import ObjectVersion

logger = logging.getLogger(__name__)

MAX_USERS_LISTED = 100


@dataclass
class ScrubReport:
    """What one scrub found: counts, the corrupt blocks (hash -> quarantine path) and their users."""

    checked: int = 0
    ok: int = 0
    missing: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    corrupt: dict[str, str] = field(default_factory=dict)
    users: dict[str, list[str]] = field(default_factory=dict)


def _order(store: BlockStore, limit: int | None) -> Iterable[BlockInfo]:
    """All blocks in store order, or the `limit` verified longest ago (O(limit) memory)."""
    if limit is None:
        return store.iter_blocks()
    return heapq.nsmallest(limit, store.iter_blocks(), key=lambda info: (info.verified_at, info.digest))


def versions_using(digests: Iterable[str]) -> dict[str, list[str]]:
    """For each block hash, the versions whose hashmap holds it, as `AUTH_<project>/<container>/<name> (version <id>)`.

    One pass over every hashmap (as GC does); run only when corruption was found.
    """
    wanted = set(digests)
    users: dict[str, list[str]] = {d: [] for d in wanted}
    rows = ObjectVersion.objects.values_list(
        "pk", "object__container__project_id", "object__container__name", "object__name", "hashmap"
    )
    for pk, project, container, name, hashmap in rows.iterator(chunk_size=2000):
        for digest in wanted.intersection(hashmap):
            if len(users[digest]) < MAX_USERS_LISTED:
                users[digest].append(f"AUTH_{project}/{container}/{name} (version {pk})")
    return users


def scrub_blocks(*, limit: int | None = None, dry_run: bool = False, store: BlockStore | None = None) -> ScrubReport:
    """Re-hash up to `limit` blocks (all by default); quarantine corrupt ones unless `dry_run`.

    A dry run hashes and reports but moves nothing and leaves the verified marks alone.
    """
    store = store or block_store()
    report = ScrubReport(dry_run=dry_run)
    started = time.monotonic()
    for info in _order(store, limit):
        result = store.scrub(info.digest, dry_run=dry_run)
        report.checked += 1
        report.bytes_read += result.size
        if result.outcome is ScrubOutcome.OK:
            report.ok += 1
        elif result.outcome is ScrubOutcome.MISSING:
            report.missing += 1  # collected by GC (or quarantined by a read) since it was listed
        else:
            report.corrupt[info.digest] = result.quarantined_to
    report.seconds = time.monotonic() - started
    if report.corrupt:
        report.users = versions_using(report.corrupt)
        for digest, users in report.users.items():
            logger.error(
                "objectstore scrub: corrupt block %s used by %d version(s): %s",
                digest,
                len(users),
                "; ".join(users[:10]),
                extra={"block": digest},
            )
    logger.info(
        "objectstore scrub",
        extra={
            "checked": report.checked,
            "ok": report.ok,
            "corrupt": len(report.corrupt),
            "missing": report.missing,
            "dry_run": dry_run,
        },
    )
    return report
