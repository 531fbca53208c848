"""App config of objectstore; declares the storage quota resource."""

from django.apps import AppConfig


class ObjectstoreConfig(AppConfig):
    """Containers, objects and blocks (filled by the object storage issue)."""

    name = "objectstore"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from identity.quota_registry import ResourceSpec, declare

        declare(ResourceSpec("objectstore.bytes", "Object storage", "bytes", 50 * 1024**3))
