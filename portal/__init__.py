"""The Nefos Django project package: settings, root URLs, Celery app and shared building blocks."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
