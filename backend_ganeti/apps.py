"""App config of backend_ganeti."""

from django.apps import AppConfig


class BackendGanetiConfig(AppConfig):
    """The backend_ganeti app."""

    name = "backend_ganeti"
    default_auto_field = "django.db.models.BigAutoField"
