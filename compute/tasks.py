"""Celery tasks of compute: take ids, call services.

`snapshot_server` is enqueued on commit by createImage (`services.snapshots.create_image`); it is
redelivered if a worker dies mid-copy (`acks_late`), and the copy then starts again.
`backup_server` (createBackup, `services.snapshots.create_backup`) is the same copy followed by
the rotation of the server's backups of that type.
"""

from __future__ import annotations

from celery import shared_task

from compute.services import snapshots


@shared_task(acks_late=True, reject_on_worker_lost=True)
def snapshot_server(server_id: str, image_id: str) -> str:
    """Copy the server's root disk into the image; "active" or why it failed."""
    return snapshots.run_snapshot(server_id, image_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def backup_server(server_id: str, image_id: str, backup_type: str, rotation: int) -> str:
    """Copy the server's root disk into the backup image, then keep the newest `rotation` backups."""
    return snapshots.run_backup(server_id, image_id, backup_type, rotation)
