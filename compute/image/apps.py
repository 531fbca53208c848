"""App config of the image service (Glance v2 at `/image`)."""

from django.apps import AppConfig


class ImageConfig(AppConfig):
    """Images, their properties, tags and members; the bytes are objects in the owner's store."""

    name = "compute.image"
    label = "image"
    verbose_name = "Images"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from compute.image.bootstrap import on_bootstrapped
        from identity.signals import bootstrapped

        bootstrapped.connect(on_bootstrapped, dispatch_uid="image.seed_default_image")
