"""IP address management: parsing CIDRs and addresses, allocation pools, and race-free allocation.

Allocation is race-free by construction: an `IPAllocation` row is unique on (subnet, address),
and every allocation first takes its subnets' locks in primary-key order (`lock_subnets`,
`SELECT ... FOR NO KEY UPDATE`), so allocations on one subnet take turns, each sees the addresses
committed before it, and transactions touching several subnets never deadlock. The pick is
inserted inside a savepoint; should it still collide, the next free address is tried. A
requested address that is taken is Neutron's 409 IpAddressInUse.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from compute.network.models import FloatingIP, IPAllocation, Port, Subnet

from .faults import bad_request, conflict, invalid, ip_in_use, not_found

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Cidr = ipaddress.IPv4Network | ipaddress.IPv6Network
Pool = tuple[int, int]

MAX_COLLISIONS = 64
EUI64_MODES = ("slaac", "dhcpv6-stateless")


def parse_cidr(value: Any) -> Cidr:
    """A subnet CIDR in canonical form; host bits set, no prefix length, or garbage is Neutron's 400."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise invalid(f"'{value}' is not a valid IP subnet.") from None
    if "/" not in text or iface.ip != iface.network.network_address:
        raise invalid(f"'{value}' isn't a recognized IP subnet cidr, '{iface.network}' is recommended.")
    return iface.network


def parse_prefix(value: Any) -> Cidr:
    """A remote IP prefix or route destination: host bits may be set (normalised away)."""
    if not isinstance(value, str) or ("/" not in value and not _is_address(value)):
        raise invalid(f"'{value}' is not a valid IP subnet.")
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise invalid(f"'{value}' is not a valid IP subnet.") from None


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def parse_address(value: Any, *, field: str = "ip_address") -> Address:
    """One IP address, or Neutron's 400 naming the field."""
    if isinstance(value, str):
        try:
            return ipaddress.ip_address(value.strip())
        except ValueError:
            pass
    raise invalid(f"'{value}' is not a valid IP address for {field}.")


def network_of(subnet: Subnet) -> Cidr:
    """The subnet's CIDR as an ipaddress network (stored canonical)."""
    return ipaddress.ip_network(subnet.cidr)


def unusable(net: Cidr) -> set[int]:
    """Addresses never handed out: the network address, and the broadcast address of IPv4 subnets."""
    if net.prefixlen >= net.max_prefixlen - 1:
        return set()
    reserved = {int(net.network_address)}
    if net.version == 4:
        reserved.add(int(net.broadcast_address))
    return reserved


def default_gateway(net: Cidr) -> Address | None:
    """The first usable address (Neutron's default gateway), if the subnet has one."""
    if net.num_addresses < 4:
        return None
    return net.network_address + 1


def default_pools(net: Cidr, gateway: Address | None) -> list[Pool]:
    """Every usable address but the gateway, as inclusive (first, last) integer ranges."""
    first, last = int(net.network_address), int(net.broadcast_address)
    skip = unusable(net)
    if first in skip:
        first += 1
    if last in skip:
        last -= 1
    if first > last:
        return []
    if gateway is None or not first <= int(gateway) <= last:
        return [(first, last)]
    gw = int(gateway)
    return [pool for pool in ((first, gw - 1), (gw + 1, last)) if pool[0] <= pool[1]]


def pool_text(pool: Pool, version: int) -> dict[str, str]:
    """A pool as Neutron renders it: `{"start": ip, "end": ip}`."""
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return {"start": str(make(pool[0])), "end": str(make(pool[1]))}


def stored_pools(subnet: Subnet) -> list[Pool]:
    """The subnet's pools as integer ranges."""
    return [
        (int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"]))) for p in subnet.allocation_pools
    ]


def validate_pools(net: Cidr, pools: Any, gateway: Address | None) -> list[Pool]:
    """Requested pools as integer ranges: inside the CIDR, ordered, disjoint, not holding the gateway."""
    if not isinstance(pools, list):
        raise invalid(f"Invalid data format for allocation_pools: '{pools}' is not a list.")
    result: list[Pool] = []
    for pool in pools:
        if not isinstance(pool, dict) or set(pool) != {"start", "end"}:
            raise invalid(f"Invalid data format for IP pool: '{pool}'.")
        start, end = parse_address(pool["start"], field="start"), parse_address(pool["end"], field="end")
        text = f"{pool['start']}-{pool['end']}"
        if start.version != net.version or end.version != net.version or start > end:
            raise bad_request(f"The allocation pool {text} is not valid.", "InvalidAllocationPool")
        if start not in net or end not in net or int(start) in unusable(net) or int(end) in unusable(net):
            raise bad_request(
                f"The allocation pool {text} spans beyond the subnet cidr {net}.", "OutOfBoundsAllocationPool"
            )
        result.append((int(start), int(end)))
    result.sort()
    for (a_start, a_end), (b_start, b_end) in itertools.pairwise(result):
        if b_start <= a_end:
            one, two = pool_text((a_start, a_end), net.version), pool_text((b_start, b_end), net.version)
            raise conflict(
                f"Found overlapping allocation pools: {one['start']}-{one['end']} {two['start']}-{two['end']} "
                f"for subnet {net}.",
                "OverlappingAllocationPools",
            )
    if gateway is not None:
        for pool in result:
            if pool[0] <= int(gateway) <= pool[1]:
                text = pool_text(pool, net.version)
                raise conflict(
                    f"Gateway ip {gateway} conflicts with allocation pool {text['start']}-{text['end']}.",
                    "GatewayConflictWithAllocationPools",
                )
    return result


def eui64(net: Cidr, mac: str) -> Address:
    """The SLAAC address of `mac` in a /64 (modified EUI-64: flip the U/L bit, insert ff:fe)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface = bytes([*octets[:3], 0xFF, 0xFE, *octets[3:]])
    return net.network_address + int.from_bytes(interface, "big")


def first_free(pools: Iterable[Pool], taken: set[int]) -> int | None:
    """The lowest address of the pools not in `taken` (at most len(taken) + 1 probes)."""
    for start, end in pools:
        candidate = start
        while candidate <= end:
            if candidate not in taken:
                return candidate
            candidate += 1
    return None


def _owner(owner: Port | FloatingIP) -> dict[str, Any]:
    return {"port": owner} if isinstance(owner, Port) else {"floating_ip": owner}


def lock_subnets(subnet_ids: Iterable[Any]) -> None:
    """Take the allocation locks of these subnets, in primary-key order, until the transaction ends.

    Every allocation takes its subnets' locks this way before it looks at free addresses, so
    allocations on one subnet take turns (each sees what the previous one committed) and, the
    order being global, two transactions never wait on each other in a cycle. The lock is
    `FOR NO KEY UPDATE`: inserts that merely reference the subnet (their foreign-key check) pass.
    A subnet deleted meanwhile is Neutron's 404.
    """
    wanted = sorted(set(subnet_ids))
    if not wanted:
        return
    rows = Subnet.objects.select_for_update(no_key=True).filter(pk__in=wanted).order_by("pk")
    missing = set(wanted) - set(rows.values_list("pk", flat=True))
    if missing:
        raise not_found("subnet", min(missing))


def allocate_next(subnet: Subnet, owner: Port | FloatingIP) -> IPAllocation | None:
    """Give `owner` the lowest free pool address of `subnet`, or None when the pools are used up.

    Must run inside a transaction: the subnet lock is held until it commits.
    """
    lock_subnets([subnet.pk])
    version = subnet.ip_version
    taken = {int(ipaddress.ip_address(ip)) for ip in subnet.allocations.values_list("ip_address", flat=True)}
    for _ in range(MAX_COLLISIONS):
        candidate = first_free(stored_pools(subnet), taken)
        if candidate is None:
            return None
        address = str(ipaddress.IPv4Address(candidate) if version == 4 else ipaddress.IPv6Address(candidate))
        try:
            with transaction.atomic():
                return IPAllocation.objects.create(subnet=subnet, ip_address=address, **_owner(owner))
        except IntegrityError:
            taken.add(candidate)
    return None


def check_address(subnet: Subnet, address: Address) -> None:
    """Refuse an address that is not a host address of `subnet` (or is its gateway)."""
    net = network_of(subnet)
    if address.version != net.version or address not in net:
        raise bad_request(f"IP address {address} is not a valid IP for the specified subnet.", "InvalidIpForSubnet")
    if int(address) in unusable(net) or (subnet.gateway_ip and address == ipaddress.ip_address(subnet.gateway_ip)):
        raise bad_request(f"IP address {address} is not a valid IP for the specified subnet.", "InvalidIpForSubnet")


def allocate_address(subnet: Subnet, address: Address, owner: Port | FloatingIP) -> IPAllocation:
    """Give `owner` exactly `address` of `subnet`; 409 IpAddressInUse if someone has it."""
    check_address(subnet, address)
    lock_subnets([subnet.pk])
    try:
        with transaction.atomic():
            return IPAllocation.objects.create(subnet=subnet, ip_address=str(address), **_owner(owner))
    except IntegrityError:
        raise ip_in_use(subnet.network_id, str(address)) from None


def allocate_auto(subnet: Subnet, port: Port) -> IPAllocation | None:
    """An address for `port` the way the subnet hands them out: EUI-64 for SLAAC, else the next free one."""
    if subnet.ip_version == 6 and subnet.ipv6_address_mode in EUI64_MODES:
        return allocate_address(subnet, eui64(network_of(subnet), port.mac_address), port)
    return allocate_next(subnet, port)
