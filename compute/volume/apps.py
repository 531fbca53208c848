"""App config of compute.volume: Cinder's data and API, its quota resolver, the volume types seeded on
`manage.py bootstrap`, the receiver that moves volumes when their instance's jobs end (then the one
attaching the volumes a new server waits for, `services.pending`), and the guard
refusing to delete a project whose volumes still have disks on clusters."""

from django.apps import AppConfig


class VolumeConfig(AppConfig):
    """Volumes and volume types (quota resources `volume.*` are declared by `compute`)."""

    name = "compute.volume"
    label = "volume"
    verbose_name = "Volumes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend_ganeti.models import Instance
        from backend_ganeti.signals import instance_changed
        from compute.volume.bootstrap import on_bootstrapped
        from compute.volume.services import charges, completion, pending, project_guard
        from identity.services import quotas
        from identity.signals import bootstrapped, project_deleting

        quotas.register_resolver(charges.CLIENT, charges.resolve)
        bootstrapped.connect(on_bootstrapped, dispatch_uid="volume.seed_volume_types")
        instance_changed.connect(
            completion.on_instance_changed, sender=Instance, dispatch_uid="volume.instance_changed"
        )
        # After compute's receiver (the server shows the event) and completion's (ended jobs applied).
        instance_changed.connect(pending.on_instance_changed, sender=Instance, dispatch_uid="volume.pending_attach")
        project_deleting.connect(project_guard.refuse_while_volumes, dispatch_uid="volume.project_guard")
