"""App config of objectstore; declares the storage quota resource and its ledger resolver."""

from django.apps import AppConfig


class ObjectstoreConfig(AppConfig):
    """Containers, objects and versions over content-addressed blocks (Swift v1 API)."""

    name = "objectstore"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from identity.quota_registry import ResourceSpec, declare
        from identity.services import quotas
        from objectstore.services import charges

        declare(ResourceSpec("objectstore.bytes", "Object storage", "bytes", 50 * 1024**3))
        quotas.register_resolver(charges.CLIENT, charges.resolve)
