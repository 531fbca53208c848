"""Every periodic task named in the beat schedule exists (a typo would fail silently in production)."""

from __future__ import annotations

from django.conf import settings

from portal.celery import app


def test_beat_schedule_names_registered_tasks_when_app_loaded():
    app.loader.import_default_modules()
    registered = set(app.tasks)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled, "the beat schedule is empty"
    assert scheduled <= registered, f"unknown tasks: {sorted(scheduled - registered)}"


def test_beat_schedule_includes_backend_watchers_when_loaded():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled.get("backend_ganeti.tasks.resume_jobs") == 30.0
    assert scheduled.get("backend_ganeti.tasks.reconcile_clusters") == 300.0
    assert scheduled.get("backend_ganeti.tasks.refresh_clusters") == 60.0
