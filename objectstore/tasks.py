"""Celery tasks of the object store: take nothing, call services (scheduled by beat)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from objectstore.services import gc, objects, scrub


@shared_task
def collect_garbage() -> dict[str, int]:
    """Delete unreferenced blocks past the grace period."""
    return asdict(gc.collect_garbage())


@shared_task
def purge_expired_objects() -> int:
    """Delete objects whose X-Delete-At has passed."""
    return objects.purge_expired()


@shared_task
def scrub_blocks(limit: int | None = None) -> dict[str, int]:
    """Re-hash blocks (the `limit` verified longest ago, or all), quarantining corrupt ones."""
    report = scrub.scrub_blocks(limit=limit)
    return {"checked": report.checked, "ok": report.ok, "corrupt": len(report.corrupt), "missing": report.missing}
