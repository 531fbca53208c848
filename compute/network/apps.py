"""App config of compute.network: Neutron's data and API, and its quota crash resolver."""

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """Networks, subnets, ports, floating IPs, security groups (quota resources are declared by `compute`)."""

    name = "compute.network"
    label = "network"
    verbose_name = "Networks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from compute.network.bootstrap import on_bootstrapped
        from compute.network.services import charges
        from identity.services import quotas
        from identity.signals import bootstrapped

        quotas.register_resolver(charges.CLIENT, charges.resolve)
        bootstrapped.connect(on_bootstrapped, dispatch_uid="network.ensure_public_network")
