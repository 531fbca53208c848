"""Race-freedom on PostgreSQL: many threads, each with its own connection, allocating at once.

Run with `DATABASE_URL=postgres://postgres@127.0.0.1:5432/nefos_network pytest tests/compute_network`;
skipped on SQLite, whose single writer serialises everything and so proves nothing here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from compute.network.models import IPAllocation, Network, Port, SecurityGroup
from compute.network.services import binding, charges, security_groups
from compute.network.services.networks import NetworkSpec, create_network
from compute.network.services.subnets import SubnetSpec, create_subnet
from identity.services import quotas
from portal.errors import Conflict
from tests import concurrency
from tests.compute_network.helpers import V2
from tests.factories import make_token

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): SQLite serialises writers and proves nothing",
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 16


def run_threads(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """`tests.concurrency.run_threads` with this module's default thread count."""
    return concurrency.run_threads(work, threads)


@pytest.fixture
def small_net(project, member) -> Network:
    """A network whose only subnet has five free addresses (10.0.0.2-.6)."""
    network = create_network(project, NetworkSpec(name="small"), actor=member)
    create_subnet(project, network, SubnetSpec(cidr="10.0.0.0/29"), actor=member)
    return network


def test_exactly_pool_size_ports_get_distinct_addresses_when_created_concurrently(project, member, small_net):
    token = make_token(member, project)

    def create(i: int) -> tuple[int, dict]:
        client = APIClient()
        client.credentials(HTTP_X_AUTH_TOKEN=token)
        response = client.post(f"{V2}/ports", {"port": {"network_id": str(small_net.pk)}}, format="json")
        return response.status_code, response.json()

    results = run_threads(create)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 5, 409: THREADS - 5}, statuses
    refused = {body["NeutronError"]["type"] for status, body in results if status == 409}
    assert refused == {"IpAddressGenerationFailure"}
    addresses = [body["port"]["fixed_ips"][0]["ip_address"] for status, body in results if status == 201]
    assert sorted(addresses) == [f"10.0.0.{i}" for i in range(2, 7)]
    assert IPAllocation.objects.count() == 5 and Port.objects.count() == 5
    assert len(set(Port.objects.values_list("mac_address", flat=True))) == 5


def test_one_thread_gets_a_requested_address_when_all_ask_for_it(project, member, small_net):
    def take(i: int) -> str:
        try:
            binding.allocate_server_ports(
                project=project,
                user=member,
                server_id=f"s{i}",
                requests=[{"uuid": str(small_net.pk), "fixed_ip": "10.0.0.4"}],
            )
        except Conflict as exc:
            return str(exc.detail["neutron_type"])
        return "ok"

    assert Counter(run_threads(take)) == {"ok": 1, "IpAddressInUse": THREADS - 1}


def test_server_ports_never_share_an_address_when_mixed_with_explicit_requests(project, member):
    network = create_network(project, NetworkSpec(name="mixed"), actor=member)
    create_subnet(project, network, SubnetSpec(cidr="10.1.0.0/27"), actor=member)  # 29 free addresses

    def nic(i: int) -> str:
        request = {"uuid": str(network.pk), **({"fixed_ip": f"10.1.0.{2 + i}"} if i % 2 else {})}
        try:
            binding.allocate_server_ports(project=project, user=member, server_id=f"s{i}", requests=[request])
        except Conflict:
            return "conflict"
        return "ok"

    outcomes = run_threads(nic)
    addresses = list(IPAllocation.objects.values_list("ip_address", flat=True))
    assert len(addresses) == len(set(addresses)) == outcomes.count("ok")
    assert outcomes.count("ok") >= THREADS // 2


def test_servers_on_two_networks_never_deadlock_when_requesting_them_in_opposite_orders(project, member):
    nets = []
    for index in range(2):
        network = create_network(project, NetworkSpec(name=f"n{index}"), actor=member)
        create_subnet(project, network, SubnetSpec(cidr=f"10.{index + 10}.0.0/24"), actor=member)
        nets.append({"uuid": str(network.pk)})

    def boot(i: int) -> int:
        order = nets if i % 2 else nets[::-1]
        return len(binding.allocate_server_ports(project=project, user=member, server_id=f"s{i}", requests=order))

    assert run_threads(boot) == [2] * THREADS
    addresses = list(IPAllocation.objects.values_list("subnet_id", "ip_address"))
    assert len(addresses) == len(set(addresses)) == 2 * THREADS


def test_auto_network_is_made_once_when_many_servers_boot_at_once(project, member):
    bindings = run_threads(
        lambda i: binding.allocate_server_ports(project=project, user=member, server_id=f"s{i}", requests="auto")
    )
    assert len({b[0].network_id for b in bindings}) == 1
    assert Network.objects.filter(project=project, auto_allocated=True).count() == 1
    assert len({b[0].fixed_ips[0][1] for b in bindings}) == THREADS
    row = next(r for r in quotas.usage(project) if r["resource"] == charges.NETWORKS)
    assert row["usage"] + row["pending"] == 1


def test_floating_ips_stop_exactly_at_the_quota_when_requested_concurrently(project, member, admin_project):
    from compute.network.services import topology

    public = topology.ensure_public_network(project=admin_project)
    quotas.set_limit(project, charges.FLOATING_IPS, 3, actor=None)
    token = make_token(member, project)

    def allocate(i: int) -> int:
        client = APIClient()
        client.credentials(HTTP_X_AUTH_TOKEN=token)
        body = {"floatingip": {"floating_network_id": str(public.pk)}}
        return client.post(f"{V2}/floatingips", body, format="json").status_code

    assert Counter(run_threads(allocate)) == {201: 3, 409: THREADS - 3}


def test_default_security_group_is_made_once_when_first_used_concurrently(project, member):
    groups = run_threads(lambda i: security_groups.ensure_default_group(project, actor=member).pk)
    assert len(set(groups)) == 1
    assert SecurityGroup.objects.filter(project=project).count() == 1
