"""Benchmark: `GET /servers/detail` over 10,000 servers vs a raw SQL + json.dumps baseline.

One project holds SERVERS servers, each with a port and a fixed IP on one network (built with
bulk inserts, not through the API). Timed, median of ROUNDS: the full request through Django's
test client (token check, microversion, filters, keyset page, addresses, tags, JSON) for a page
of 1,000 and of 100, against the same page read with raw SQL (the server rows, then their ports
and addresses) and serialised with json.dumps. Goal: ratio <= 3x. The query count of a page is
printed too (it must not depend on the page size: no N+1).

Database: PostgreSQL `nefos_bench` when DATABASE_URL points at PostgreSQL (`make bench` does),
else a private SQLite file. Removes the rows it made.
"""

from __future__ import annotations

import datetime
import json
import statistics
import sys
import time
import uuid

from benchdb import setup_django

SERVERS = 10_000
ROUNDS = 15
GOAL = 3.0


def populate(project, user) -> None:
    """SERVERS servers, each with a port and an address, in bulk."""
    from compute.models import Server
    from compute.network.models import IPAllocation, Network, Port, Subnet
    from compute.services.states import PowerState, VmState

    network = Network.objects.create(project=project, name="bench-net")
    subnet = Subnet.objects.create(project=project, network=network, ip_version=4, cidr="10.128.0.0/16")
    base = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    servers, ports, addresses = [], [], []
    for i in range(SERVERS):
        server_id = uuid.uuid4()
        moment = base + datetime.timedelta(seconds=i)
        servers.append(
            Server(
                id=server_id, project=project, user_id=user.pk, name=f"bench-{i:05d}", vm_state=VmState.ACTIVE,
                power_state=PowerState.RUNNING, flavor_id="1", flavor_name="m1.tiny", vcpus=1, ram=512, disk=1,
                image_id=str(uuid.uuid4()), metadata={"role": "bench", "index": str(i)}, host="embedded",
                node="node1", instance_name=f"nefos-{server_id.hex}", availability_zone="embedded",
                security_groups=["default"], progress=100, created_at=moment, updated_at=moment, launched_at=moment,
            )
        )  # fmt: skip
        mac = f"fa:16:3e:{i >> 16:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"
        port = Port(
            project=project, network=network, mac_address=mac, device_id=str(server_id),
            device_owner="compute:nova", server_owned=True, status="ACTIVE",
        )  # fmt: skip
        ports.append(port)
        addresses.append(IPAllocation(subnet=subnet, port=port, ip_address=f"10.128.{(i + 2) >> 8}.{(i + 2) & 255}"))
    Server.objects.bulk_create(servers, batch_size=2000)
    Port.objects.bulk_create(ports, batch_size=2000)
    IPAllocation.objects.bulk_create(addresses, batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would gather them
        cursor.execute("ANALYZE")


def baseline(project_id: str, limit: int) -> bytes:
    """The same page with raw SQL (servers, then their ports and addresses) and json.dumps."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM compute_server WHERE project_id = %s AND deleted_at IS NULL "
            "ORDER BY created_at DESC, id DESC LIMIT %s",
            [project_id, limit],
        )
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        ids = [str(row["id"]) for row in rows]
        cursor.execute(
            "SELECT p.device_id, p.mac_address, a.ip_address, n.name FROM network_port p "
            "JOIN network_ipallocation a ON a.port_id = p.id JOIN network_network n ON n.id = p.network_id "
            "WHERE p.device_id IN (" + ",".join(["%s"] * len(ids)) + ")",
            ids,
        )
        ports = cursor.fetchall()
    return json.dumps({"servers": rows, "ports": ports}, default=str).encode()


def count_queries(fn) -> int:
    """How many SQL statements fn() runs."""
    from django.db import connection

    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return len(seen)


def compare(api, raw, rounds: int = ROUNDS) -> tuple[float, float, float]:
    """Median seconds of api() and raw(), timed back to back in each round, and the median ratio
    of the pairs (interleaving keeps a busy machine's drift out of the ratio)."""
    pairs = [(timed(api, 1), timed(raw, 1)) for _ in range(rounds)]
    return (
        statistics.median(a for a, _ in pairs),
        statistics.median(r for _, r in pairs),
        statistics.median(a / r for a, r in pairs),
    )


def timed(fn, rounds: int = ROUNDS) -> float:
    """Median seconds of fn()."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    label = setup_django("servers")
    from django.test import Client

    from identity.quota_registry import sync_resources
    from tests.factories import ProjectFactory, UserFactory, assign, make_token

    sync_resources()
    project = ProjectFactory(name=f"bench-servers-{uuid.uuid4().hex[:8]}")
    user = UserFactory(name=f"bench-servers-{uuid.uuid4().hex[:8]}")
    assign(user, project, "member", "reader")
    token = make_token(user, project)
    started = time.perf_counter()
    populate(project, user)
    print(
        f"servers_detail: {SERVERS:,} servers with ports populated in {time.perf_counter() - started:.1f} s ({label})"
    )
    client = Client(SERVER_NAME="localhost")
    headers = {"HTTP_X_AUTH_TOKEN": token, "HTTP_OPENSTACK_API_VERSION": "compute 2.47"}
    try:
        for limit in (1000, 100, 1):
            path = f"/compute/v2.1/servers/detail?limit={limit}"

            def api(path: str = path) -> None:
                response = client.get(path, **headers)
                assert response.status_code == 200, response.content[:300]

            def raw(limit: int = limit) -> None:
                baseline(project.pk, limit)

            api()
            raw()
            queries = count_queries(api)
            api_s, raw_s, ratio = compare(api, raw)
            print(
                f"servers_detail limit={limit}: API {api_s * 1000:.1f} ms, raw SQL+json {raw_s * 1000:.1f} ms, "
                f"ratio {ratio:.2f}x (goal <= {GOAL}x), {queries} queries"
            )
        walk = timed(lambda: _walk(client, headers), rounds=1)
        print(f"servers_detail: walking all {SERVERS:,} servers in pages of 1,000 took {walk:.2f} s")
    finally:
        _cleanup(project)
    return 0


def _walk(client, headers) -> None:
    """Follow servers_links from the first page to the last."""
    path = "/compute/v2.1/servers/detail?limit=1000"
    seen = 0
    while path:
        body = client.get(path, **headers).json()
        seen += len(body["servers"])
        links = body.get("servers_links")
        path = links[0]["href"].split("localhost", 1)[1] if links else ""
    assert seen == SERVERS, seen


def _cleanup(project) -> None:
    from compute.models import Server
    from compute.network.models import IPAllocation, Network, Port, Subnet

    IPAllocation.objects.filter(subnet__project=project).delete()
    Port.objects.filter(project=project).delete()
    Subnet.objects.filter(project=project).delete()
    Network.objects.filter(project=project).delete()
    Server.objects.filter(project=project).delete()
    project.delete()


if __name__ == "__main__":
    sys.exit(main())
