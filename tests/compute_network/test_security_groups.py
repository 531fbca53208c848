"""Security groups and rules: the default group on first use, rule validation, duplicates, deletion rules."""

from __future__ import annotations

import pytest

from compute.network.models import SecurityGroup
from tests.compute_network.helpers import V2, created, fault, make_network, make_port, make_subnet


def group(client, name: str = "web") -> dict:
    return created(
        client.post(f"{V2}/security-groups", {"security_group": {"name": name}}, format="json"), "security_group"
    )


def add_rule(client, group_id: str, **attrs):
    body = {"security_group_rule": {"security_group_id": group_id, "direction": "ingress", **attrs}}
    return client.post(f"{V2}/security-group-rules", body, format="json")


def test_default_group_has_neutrons_four_rules_when_first_listed(member_api, project):
    (default,) = member_api.get(f"{V2}/security-groups").json()["security_groups"]
    assert default["name"] == "default" and default["project_id"] == project.pk
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in default["security_group_rules"]}
    assert rules == {
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", default["id"]),
        ("ingress", "IPv6", default["id"]),
    }
    member_api.get(f"{V2}/security-group-rules")
    assert SecurityGroup.objects.filter(project=project).count() == 1


def test_new_group_gets_egress_rules_only_when_created(member_api):
    web = group(member_api)
    assert sorted((r["direction"], r["ethertype"]) for r in web["security_group_rules"]) == [
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    ]


def test_group_named_default_is_409_when_created(member_api):
    response = member_api.post(f"{V2}/security-groups", {"security_group": {"name": "default"}}, format="json")
    assert response.status_code == 409 and fault(response)["type"] == "SecurityGroupDefaultAlreadyExists"


@pytest.mark.parametrize(
    "attrs",
    [
        {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
        {"protocol": "udp", "port_range_min": 1000, "port_range_max": 2000},
        {"protocol": "icmp", "port_range_min": 8, "port_range_max": 0},
        {"protocol": "icmp"},
        {"protocol": "ipv6-icmp", "ethertype": "IPv6", "remote_ip_prefix": "2001:db8::/32"},
        {"protocol": 47},
        {"protocol": "any"},
        {"ethertype": "ipv6"},
        {"direction": "egress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
    ],
)
def test_rule_is_created_when_valid(member_api, attrs):
    response = add_rule(member_api, group(member_api)["id"], **attrs)
    assert response.status_code == 201, response.content
    rule = response.json()["security_group_rule"]
    assert rule["ethertype"] in ("IPv4", "IPv6") and rule["belongs_to_default_sg"] is False


@pytest.mark.parametrize(
    ("attrs", "kind"),
    [
        ({"direction": "sideways"}, "InvalidInput"),
        ({"ethertype": "IPv5"}, "InvalidInput"),
        ({"protocol": "warp"}, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": 256}, "SecurityGroupRuleInvalidProtocol"),
        ({"port_range_min": 22, "port_range_max": 22}, "SecurityGroupProtocolRequiredWithPorts"),
        ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 10}, "SecurityGroupInvalidPortValue"),
        ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 22}, "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 80}, "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 1, "port_range_max": 70000}, "SecurityGroupInvalidPortValue"),
        ({"protocol": "icmp", "port_range_min": 300}, "SecurityGroupInvalidIcmpValue"),
        ({"protocol": "icmp", "port_range_max": 0}, "SecurityGroupMissingIcmpType"),
        ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, "SecurityGroupInvalidProtocolForPortRange"),
        ({"protocol": "icmpv6", "ethertype": "IPv4"}, "SecurityGroupEthertypeConflict"),
        ({"ethertype": "IPv4", "remote_ip_prefix": "::/0"}, "SecurityGroupRuleParameterConflict"),
        ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, "SecurityGroupRuleParameterConflict"),
        ({"remote_ip_prefix": "10.0.0.0/33"}, "InvalidInput"),
        ({"port_range_min": "twenty"}, "HTTPBadRequest"),
    ],
)
def test_rule_is_400_when_invalid(member_api, attrs, kind):
    response = add_rule(member_api, group(member_api)["id"], **attrs)
    assert response.status_code == 400, response.content
    assert fault(response)["type"] == kind


def test_rule_with_both_remotes_is_400_when_given(member_api):
    web = group(member_api)
    response = add_rule(member_api, web["id"], remote_group_id=web["id"], remote_ip_prefix="10.0.0.0/8")
    assert response.status_code == 400


@pytest.mark.parametrize("remote", ["bad_group_id", "3f0c1b0e-1d2c-4b5a-9e8f-7a6b5c4d3e2f"])
def test_rule_is_404_when_remote_group_missing_or_malformed(member_api, remote):
    response = add_rule(member_api, group(member_api)["id"], protocol="tcp", remote_group_id=remote)
    assert response.status_code == 404, response.content
    assert fault(response)["type"] == "SecurityGroupNotFound"


def test_duplicate_rule_is_409_when_prefix_differs_only_in_host_bits(member_api):
    web = group(member_api)
    first = add_rule(member_api, web["id"], protocol="tcp", port_range_min=80, port_range_max=80,
                     remote_ip_prefix="10.0.0.0/8").json()["security_group_rule"]  # fmt: skip
    response = add_rule(
        member_api, web["id"], protocol="TCP", port_range_min=80, port_range_max=80, remote_ip_prefix="10.1.2.3/8"
    )
    assert response.status_code == 409 and first["id"] in fault(response)["message"]


def test_rule_on_foreign_group_is_404_when_created(member_api, other_api):
    foreign = group(other_api, "theirs")
    response = add_rule(member_api, foreign["id"])
    assert response.status_code == 404 and fault(response)["type"] == "SecurityGroupNotFound"


def test_rule_can_be_shown_and_deleted_but_not_updated_when_owned(member_api):
    web = group(member_api)
    rule = add_rule(member_api, web["id"], protocol="udp").json()["security_group_rule"]
    assert member_api.get(f"{V2}/security-group-rules/{rule['id']}").json()["security_group_rule"]["id"] == rule["id"]
    put = member_api.put(f"{V2}/security-group-rules/{rule['id']}", {"security_group_rule": {}}, format="json")
    assert put.status_code == 405
    assert member_api.delete(f"{V2}/security-group-rules/{rule['id']}").status_code == 204
    assert member_api.get(f"{V2}/security-group-rules/{rule['id']}").status_code == 404


def test_default_group_is_409_when_member_deletes_or_renames_it(member_api):
    (default,) = member_api.get(f"{V2}/security-groups").json()["security_groups"]
    response = member_api.delete(f"{V2}/security-groups/{default['id']}")
    assert response.status_code == 409 and fault(response)["type"] == "SecurityGroupCannotRemoveDefault"
    rename = member_api.put(f"{V2}/security-groups/{default['id']}", {"security_group": {"name": "x"}}, format="json")
    assert rename.status_code == 409


def test_group_is_409_when_deleted_while_a_port_uses_it(member_api):
    web = group(member_api)
    network = make_network(member_api)
    make_subnet(member_api, network["id"])
    port = make_port(member_api, network["id"], security_groups=[web["id"]])
    response = member_api.delete(f"{V2}/security-groups/{web['id']}")
    assert response.status_code == 409 and fault(response)["type"] == "SecurityGroupInUse"
    member_api.delete(f"{V2}/ports/{port['id']}")
    assert member_api.delete(f"{V2}/security-groups/{web['id']}").status_code == 204


def test_group_update_changes_name_and_description_when_owned(member_api):
    web = group(member_api)
    body = {"security_group": {"name": "web2", "description": "d"}}
    updated = member_api.put(f"{V2}/security-groups/{web['id']}", body, format="json").json()["security_group"]
    assert (updated["name"], updated["description"]) == ("web2", "d")


def test_rules_referencing_a_deleted_group_go_with_it_when_deleted(member_api):
    web, db = group(member_api, "web"), group(member_api, "db")
    rule = add_rule(member_api, db["id"], remote_group_id=web["id"]).json()["security_group_rule"]
    assert member_api.delete(f"{V2}/security-groups/{web['id']}").status_code == 204
    assert member_api.get(f"{V2}/security-group-rules/{rule['id']}").status_code == 404


def test_rule_list_filters_by_group_and_protocol_when_asked(member_api):
    web = group(member_api)
    add_rule(member_api, web["id"], protocol="tcp", port_range_min=22, port_range_max=22)
    rules = member_api.get(f"{V2}/security-group-rules?security_group_id={web['id']}&protocol=tcp").json()
    assert [r["port_range_min"] for r in rules["security_group_rules"]] == [22]
