"""Celery tasks of the object store: take nothing, call services (scheduled by beat)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from objectstore.services import gc, objects


@shared_task
def collect_garbage() -> dict[str, int]:
    """Delete unreferenced blocks past the grace period."""
    return asdict(gc.collect_garbage())


@shared_task
def purge_expired_objects() -> int:
    """Delete objects whose X-Delete-At has passed."""
    return objects.purge_expired()
