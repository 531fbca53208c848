"""The real `openstack` CLI (openstackclient + openstacksdk) against a live portal: Neutron end to end."""

from __future__ import annotations

import pytest

from compute.network.services import topology
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def member_cloud(portal, clouds) -> str:
    """A cloud for a member of a fresh project; the public network exists (as bootstrap would make it)."""
    topology.ensure_public_network()
    project = ProjectFactory(name="net-cli")
    user = UserFactory(name="net-cli-user")
    assign(user, project, "member", "reader")
    return clouds.add_user("member", user.name, PASSWORD, project.name)


def test_openstack_cli_builds_network_subnet_ports_and_floating_ip_when_driven_by_a_member(openstack, member_cloud):
    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    net = cli("network", "create", "net1")
    assert net["name"] == "net1" and net["status"] == "ACTIVE" and net["router:external"] is False
    sub = cli("subnet", "create", "--network", "net1", "--subnet-range", "10.1.0.0/24", "sub1")
    assert sub["cidr"] == "10.1.0.0/24" and sub["gateway_ip"] == "10.1.0.1"
    assert sub["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    port1 = cli("port", "create", "--network", "net1", "port1")
    assert port1["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.1.0.2"}]
    assert port1["mac_address"].startswith("fa:16:3e:") and port1["status"] == "DOWN"
    port2 = cli("port", "create", "--network", "net1", "--fixed-ip", "subnet=sub1,ip-address=10.1.0.50", "port2")
    assert port2["fixed_ips"][0]["ip_address"] == "10.1.0.50"
    taken = openstack(
        "port",
        "create",
        "--network",
        "net1",
        "--fixed-ip",
        "ip-address=10.1.0.50",
        "dup",
        cloud=member_cloud,
        check=False,
    )
    assert taken.returncode != 0 and "in use" in taken.stderr

    fip = cli("floating", "ip", "create", "public")
    assert fip["floating_ip_address"].startswith("203.0.113.") and fip["status"] == "DOWN"
    openstack("floating", "ip", "set", "--port", "port1", fip["id"], cloud=member_cloud)
    shown = cli("floating", "ip", "show", fip["id"])
    assert shown["port_id"] == port1["id"] and shown["fixed_ip_address"] == "10.1.0.2" and shown["status"] == "ACTIVE"
    listed = cli("floating", "ip", "list")
    assert [(f["Floating IP Address"], f["Port"]) for f in listed] == [(fip["floating_ip_address"], port1["id"])]
    openstack("floating", "ip", "unset", "--port", fip["id"], cloud=member_cloud)
    assert cli("floating", "ip", "show", fip["id"])["port_id"] is None

    ports = cli("port", "list", "--network", "net1")
    assert sorted(p["Name"] for p in ports) == ["port1", "port2"]
    assert [n["Name"] for n in cli("network", "list")] in (["net1", "public"], ["public", "net1"])
    assert [s["Name"] for s in cli("subnet", "list", "--network", "net1")] == ["sub1"]

    openstack("floating", "ip", "delete", fip["id"], cloud=member_cloud)
    openstack("port", "delete", "port1", "port2", cloud=member_cloud)
    openstack("subnet", "delete", "sub1", cloud=member_cloud)
    openstack("network", "delete", "net1", cloud=member_cloud)
    assert [n["Name"] for n in cli("network", "list")] == ["public"]


def test_openstack_cli_manages_security_groups_and_rules_when_driven_by_a_member(openstack, member_cloud):
    def cli(*args: str) -> dict:
        return openstack(*args, "-f", "json", cloud=member_cloud).json()

    groups = cli("security", "group", "list")
    assert [g["Name"] for g in groups] == ["default"]
    rule = cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "default")
    assert (rule["protocol"], rule["port_range_min"], rule["port_range_max"]) == ("tcp", 22, 22)
    assert rule["remote_ip_prefix"] == "0.0.0.0/0" and rule["direction"] == "ingress"
    web = cli("security", "group", "create", "--description", "web servers", "web")
    icmp = cli("security", "group", "rule", "create", "--protocol", "icmp", "--remote-ip", "192.0.2.0/24", "web")
    rules = cli("security", "group", "rule", "list", "web")
    assert icmp["id"] in [r["ID"] for r in rules] and len(rules) == 3  # two egress defaults + icmp
    dup = openstack(
        "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "default",
        cloud=member_cloud, check=False,
    )  # fmt: skip
    assert dup.returncode != 0 and "already exists" in dup.stderr
    openstack("security", "group", "rule", "delete", icmp["id"], cloud=member_cloud)
    openstack("security", "group", "delete", web["id"], cloud=member_cloud)
    refused = openstack("security", "group", "delete", "default", cloud=member_cloud, check=False)
    assert refused.returncode != 0
    assert [g["Name"] for g in cli("security", "group", "list")] == ["default"]


def test_openstack_cli_shows_network_quota_and_extensions_when_asked(openstack, member_cloud):
    extensions = openstack("extension", "list", "--network", "-f", "json", cloud=member_cloud).json()
    assert "security-group" in [e["Alias"] for e in extensions]
    quota = openstack("quota", "show", "--network", "-f", "json", cloud=member_cloud, check=False)
    assert quota.returncode == 0, quota.stderr
