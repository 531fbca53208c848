"""App config of compute: declares the quota resources compute, volumes and networks charge, follows
backend_ganeti's instances (`instance_changed`), settles its stale quota commissions, and seeds the
default flavors on `manage.py bootstrap` (identity.signals.bootstrapped), and refuses to delete a
project that still owns servers (identity.signals.project_deleting)."""

from django.apps import AppConfig


class ComputeConfig(AppConfig):
    """Nova: flavors, key pairs and servers (networks, images and volumes are sub-apps)."""

    name = "compute"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from identity.quota_registry import ResourceSpec, declare

        declare(ResourceSpec("compute.servers", "Servers", "", 10))
        declare(ResourceSpec("compute.cores", "Virtual CPUs", "", 20))
        declare(ResourceSpec("compute.ram_mib", "RAM", "MiB", 51200))
        declare(ResourceSpec("compute.disk_gib", "Server disks", "GiB", 1000))
        declare(ResourceSpec("compute.server_groups", "Server groups", "", 10))
        declare(ResourceSpec("compute.server_group_members", "Servers per server group", "", 10))
        declare(ResourceSpec("volume.volumes", "Volumes", "", 10))
        declare(ResourceSpec("volume.gib", "Volume storage", "GiB", 1000))
        declare(ResourceSpec("network.networks", "Private networks", "", 10))
        declare(ResourceSpec("network.floating_ips", "Floating IPs", "", 5))

        from backend_ganeti.models import Instance
        from backend_ganeti.signals import instance_changed
        from compute.services import charges, events, flavors, project_guard, server_groups
        from identity.services import quotas
        from identity.signals import bootstrapped, project_deleting

        instance_changed.connect(events.on_instance_changed, sender=Instance, dispatch_uid="compute.instance_changed")
        quotas.register_resolver(charges.CLIENT, charges.resolve)
        quotas.register_resolver(server_groups.CLIENT, server_groups.resolve)
        bootstrapped.connect(flavors.on_bootstrapped, dispatch_uid="compute.seed_default_flavors")
        project_deleting.connect(project_guard.refuse_while_servers, dispatch_uid="compute.project_guard")
