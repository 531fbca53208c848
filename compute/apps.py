"""App config of compute; declares the quota resources compute, volumes and networks charge."""

from django.apps import AppConfig


class ComputeConfig(AppConfig):
    """Servers, flavors, images, networks, volumes (filled by the compute issue)."""

    name = "compute"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from identity.quota_registry import ResourceSpec, declare

        declare(ResourceSpec("compute.servers", "Servers", "", 10))
        declare(ResourceSpec("compute.cores", "Virtual CPUs", "", 20))
        declare(ResourceSpec("compute.ram_mib", "RAM", "MiB", 51200))
        declare(ResourceSpec("compute.disk_gib", "Server disks", "GiB", 1000))
        declare(ResourceSpec("volume.volumes", "Volumes", "", 10))
        declare(ResourceSpec("volume.gib", "Volume storage", "GiB", 1000))
        declare(ResourceSpec("network.networks", "Private networks", "", 10))
        declare(ResourceSpec("network.floating_ips", "Floating IPs", "", 5))
