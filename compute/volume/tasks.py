"""Celery tasks of the volume service: take ids, call services.

`fill_volume` is enqueued on commit when a volume created from an image got its disk
(`services.completion`); it is redelivered if a worker dies mid-copy (`acks_late`), and the copy
then starts again (writing the same bytes twice is harmless).
"""

from __future__ import annotations

from celery import shared_task

from compute.volume.services import image_fill


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fill_volume(volume_id: str) -> str:
    """Write the volume's image onto its new disk; the volume's new status or why it failed."""
    return image_fill.fill_volume(volume_id)
