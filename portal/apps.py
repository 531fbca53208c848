"""App config of the portal package (it owns the audit log model)."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Shared portal pieces: audit log, observability, base classes."""

    name = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.api import schema  # noqa: F401 - registers the OpenAPI token scheme
