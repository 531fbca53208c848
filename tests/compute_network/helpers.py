"""Small builders and readers shared by the Neutron tests."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

V2 = "/network/v2.0"


def created(response: Any, key: str) -> dict[str, Any]:
    """The created object of a 201 answer (fails with the body otherwise)."""
    assert response.status_code == 201, response.content
    return response.json()[key]


def make_network(client: APIClient, **attrs: Any) -> dict[str, Any]:
    """POST a network; the created body."""
    return created(client.post(f"{V2}/networks", {"network": {"name": "net", **attrs}}, format="json"), "network")


def make_subnet(client: APIClient, network_id: str, cidr: str = "10.0.0.0/24", **attrs: Any) -> dict[str, Any]:
    """POST a subnet; the created body."""
    ip_version = 6 if ":" in cidr else 4
    body = {"subnet": {"network_id": network_id, "cidr": cidr, "ip_version": ip_version, **attrs}}
    return created(client.post(f"{V2}/subnets", body, format="json"), "subnet")


def make_port(client: APIClient, network_id: str, **attrs: Any) -> dict[str, Any]:
    """POST a port; the created body."""
    return created(client.post(f"{V2}/ports", {"port": {"network_id": network_id, **attrs}}, format="json"), "port")


def fault(response: Any) -> dict[str, Any]:
    """The NeutronError of an error answer."""
    return response.json()["NeutronError"]
