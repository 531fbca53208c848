"""Server addresses for a page of servers in a fixed number of queries (ports, network names, floating IPs)."""

from __future__ import annotations

from collections.abc import Iterable

from compute.network.models import Network
from compute.network.services.binding import floating_ips_for_ports, ports_for_servers

Address = tuple[str, str, str]  # (network name, address, "fixed" or "floating")


def addresses_for(server_ids: Iterable[str]) -> dict[str, list[Address]]:
    """Each server's addresses, fixed then floating per port; three queries whatever the page size."""
    bindings = ports_for_servers([str(s) for s in server_ids])
    ports = [b for items in bindings.values() for b in items]
    if not ports:
        return {}
    names = dict(Network.objects.filter(pk__in={b.network_id for b in ports}).values_list("id", "name"))
    names = {str(pk): name for pk, name in names.items()}
    floating = floating_ips_for_ports([b.port_id for b in ports])
    result: dict[str, list[Address]] = {}
    for server_id, items in bindings.items():
        for binding in items:
            network = names.get(binding.network_id) or binding.network_id
            entries = result.setdefault(server_id, [])
            entries.extend((network, ip, "fixed") for _subnet, ip in binding.fixed_ips)
            entries.extend((network, ip, "floating") for _fixed, ip in floating.get(binding.port_id, ()))
    return result
