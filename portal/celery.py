"""The Celery application; the embedded default uses kombu's filesystem transport (no server)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def _count_task(sender=None, state=None, **_kwargs) -> None:
    """Count finished tasks by name and state for /metrics."""
    from portal.observability.metrics import TASKS

    TASKS.labels(getattr(sender, "name", "unknown"), state or "unknown").inc()
