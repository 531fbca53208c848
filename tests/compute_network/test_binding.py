"""The interface compute uses: allocate_server_ports, release_server_ports, ports_for_servers."""

from __future__ import annotations

import uuid

import pytest

from compute.network.models import FloatingIP, Network, Port, Status
from compute.network.services import binding, floating_ips, security_groups, topology
from compute.network.services.binding import PortBinding
from compute.network.services.networks import NetworkSpec, create_network
from compute.network.services.ports import PortSpec, create_port
from compute.network.services.subnets import SubnetSpec, create_subnet
from portal.errors import Conflict, Forbidden, NotFound, ValidationFailed


@pytest.fixture
def net(project, member) -> Network:
    network = create_network(project, NetworkSpec(name="lan"), actor=member)
    create_subnet(project, network, SubnetSpec(cidr="10.0.0.0/24"), actor=member)
    return network


def allocate(project, member, requests, server_id: str = "srv-1") -> list[PortBinding]:
    return binding.allocate_server_ports(project=project, user=member, server_id=server_id, requests=requests)


def test_none_gives_no_ports_when_requested(project, member):
    assert allocate(project, member, "none") == []


def test_network_request_creates_a_bound_server_port_when_given_a_uuid(project, member, net):
    (nic,) = allocate(project, member, [{"uuid": str(net.pk)}])
    port = Port.objects.get(pk=nic.port_id)
    assert (port.device_id, port.device_owner, port.status, port.server_owned) == (
        "srv-1",
        "compute:nova",
        Status.ACTIVE,
        True,
    )
    subnet_id = str(net.subnets.get().pk)
    assert nic == PortBinding(str(port.pk), str(net.pk), port.mac_address, ((subnet_id, "10.0.0.2"),), "default")


def test_server_ports_get_named_security_groups_when_names_or_ids_given(project, member, net):
    web = security_groups.create_security_group(project, name="web", actor=member)
    requests = [{"uuid": str(net.pk)}]
    (nic,) = binding.allocate_server_ports(
        project=project, user=member, server_id="srv-1", requests=requests, security_groups=("web", "default")
    )
    names = set(Port.objects.get(pk=nic.port_id).security_groups.values_list("name", flat=True))
    assert names == {"web", "default"}
    (nic,) = binding.allocate_server_ports(
        project=project, user=member, server_id="srv-2", requests=requests, security_groups=(str(web.pk),)
    )
    assert list(Port.objects.get(pk=nic.port_id).security_groups.values_list("name", flat=True)) == ["web"]


def test_unknown_or_ambiguous_security_group_is_refused_and_leaves_no_port_when_named(project, member, net):
    requests = [{"uuid": str(net.pk)}]
    with pytest.raises(ValidationFailed, match="Security group nope not found"):
        binding.allocate_server_ports(
            project=project, user=member, server_id="srv-1", requests=requests, security_groups=("nope",)
        )
    security_groups.create_security_group(project, name="twin", actor=member)
    security_groups.create_security_group(project, name="twin", actor=member)
    with pytest.raises(Conflict):
        binding.allocate_server_ports(
            project=project, user=member, server_id="srv-1", requests=requests, security_groups=("twin",)
        )
    assert not Port.objects.filter(device_id="srv-1").exists()


def test_fixed_ip_is_honoured_then_409_when_requested_twice(project, member, net):
    (nic,) = allocate(project, member, [{"uuid": str(net.pk), "fixed_ip": "10.0.0.9"}])
    assert nic.fixed_ips[0][1] == "10.0.0.9"
    with pytest.raises(Conflict) as err:
        allocate(project, member, [{"uuid": str(net.pk), "fixed_ip": "10.0.0.9"}], server_id="srv-2")
    assert err.value.detail["neutron_type"] == "IpAddressInUse"


def test_auto_makes_one_charged_private_network_per_project_when_used_twice(project, member):
    first = allocate(project, member, "auto", server_id="a")
    second = allocate(project, member, "auto", server_id="b")
    assert first[0].network_id == second[0].network_id
    network = Network.objects.get(pk=first[0].network_id)
    assert network.auto_allocated and network.quota_charged and network.subnets.get().cidr == topology.AUTO_CIDR
    assert [b.fixed_ips[0][1] for b in (*first, *second)] == ["10.0.0.2", "10.0.0.3"]


def test_existing_port_is_bound_then_unbound_not_deleted_when_released(project, member, net):
    port = create_port(project, net, PortSpec(name="mine"), actor=member)
    (nic,) = allocate(project, member, [{"port": str(port.pk)}])
    assert nic.port_id == str(port.pk)
    with pytest.raises(Conflict) as err:
        allocate(project, member, [{"port": str(port.pk)}], server_id="srv-2")
    assert err.value.detail["neutron_type"] == "PortInUse"
    binding.release_server_ports("srv-1", actor=member)
    port.refresh_from_db()
    assert (port.device_id, port.device_owner, port.status) == ("", "", Status.DOWN)


def test_release_deletes_server_ports_and_frees_their_floating_ips_when_server_goes(project, member, net, public_net):
    (nic,) = allocate(project, member, [{"uuid": str(net.pk)}])
    public = Network.objects.get(pk=public_net["id"])
    fip = floating_ips.create_floating_ip(project, public, actor=member, port=Port.objects.get(pk=nic.port_id))
    binding.release_server_ports("srv-1", actor=member)
    assert not Port.objects.filter(pk=nic.port_id).exists()
    fip.refresh_from_db()
    assert (fip.port_id, fip.fixed_ip_address, fip.status) == (None, None, Status.DOWN)
    binding.release_server_ports("srv-1", actor=member)  # nothing left: no error


def test_allocation_is_all_or_nothing_when_a_later_request_fails(project, member, net):
    with pytest.raises(NotFound):
        allocate(project, member, [{"uuid": str(net.pk)}, {"uuid": str(uuid.uuid4())}])
    assert not Port.objects.exists()


@pytest.mark.parametrize(
    ("requests", "error"),
    [
        ([{"uuid": "not-a-uuid"}], NotFound),
        ([{"port": str(uuid.uuid4())}], NotFound),
        ([{"uuid": str(uuid.uuid4()), "port": str(uuid.uuid4())}], ValidationFailed),
        ([{}], ValidationFailed),
        ("everything", ValidationFailed),
        (["x"], ValidationFailed),
    ],
)
def test_bad_requests_raise_typed_errors_when_allocating(project, member, requests, error):
    with pytest.raises(error):
        allocate(project, member, requests)


def test_foreign_private_network_is_not_found_and_external_is_forbidden_when_requested(
    project, member, other_project, other_member, public_net
):
    foreign = create_network(other_project, NetworkSpec(name="theirs"), actor=other_member)
    with pytest.raises(NotFound):
        allocate(project, member, [{"uuid": str(foreign.pk)}])
    with pytest.raises(Forbidden):
        allocate(project, member, [{"uuid": public_net["id"]}])


def test_link_is_the_provider_physical_network_when_set(project, member, admin_user):
    physnet = create_network(
        project,
        NetworkSpec(network_type="vlan", physical_network="br-vlan", segmentation_id=100),
        actor=admin_user,
    )
    (nic,) = allocate(project, member, [{"uuid": str(physnet.pk)}])
    assert nic.link == "br-vlan" and nic.fixed_ips == ()


def test_ports_for_servers_reads_every_nic_in_one_query_when_asked(project, member, net, django_assert_num_queries):
    second = create_network(project, NetworkSpec(name="second"), actor=member)
    create_subnet(project, second, SubnetSpec(cidr="2001:db8::/64", ip_version=6), actor=member)
    allocate(project, member, [{"uuid": str(net.pk)}, {"uuid": str(second.pk)}], server_id="a")
    allocate(project, member, [{"uuid": str(net.pk)}], server_id="b")
    with django_assert_num_queries(1):
        result = binding.ports_for_servers(["a", "b", "c"])
    assert [len(result[s]) for s in ("a", "b", "c")] == [2, 1, 0]
    assert [nic.fixed_ips[0][1] for nic in result["a"]] == ["10.0.0.2", "2001:db8::2"]
    assert result["b"][0].fixed_ips[0][1] == "10.0.0.3"


def test_floating_ips_for_ports_pairs_fixed_and_floating_addresses_when_associated(project, member, net, public_net):
    (nic,) = allocate(project, member, [{"uuid": str(net.pk)}])
    public = Network.objects.get(pk=public_net["id"])
    floating_ips.create_floating_ip(project, public, actor=member, port=Port.objects.get(pk=nic.port_id))
    assert binding.floating_ips_for_ports([nic.port_id]) == {nic.port_id: [("10.0.0.2", "203.0.113.2")]}
    assert FloatingIP.objects.count() == 1


def test_server_security_group_change_updates_every_port_when_server_has_several(project, member, net):
    allocate(project, member, [{"uuid": str(net.pk)}, {"uuid": str(net.pk)}])
    security_groups.create_security_group(project, name="web", actor=member)
    change = binding.change_server_security_group
    assert change(project=project, server_id="srv-1", group="web", add=True, actor=member) == "web"
    for port in Port.objects.filter(device_id="srv-1"):
        assert set(port.security_groups.values_list("name", flat=True)) == {"default", "web"}
    change(project=project, server_id="srv-1", group="default", add=False, actor=member)
    for port in Port.objects.filter(device_id="srv-1"):
        assert list(port.security_groups.values_list("name", flat=True)) == ["web"]
    with pytest.raises(ValidationFailed, match="not associated"):
        change(project=project, server_id="srv-1", group="default", add=False, actor=member)
    with pytest.raises(NotFound):
        change(project=project, server_id="srv-1", group="nope", add=True, actor=member)
    with pytest.raises(ValidationFailed, match="no network interfaces"):
        change(project=project, server_id="srv-without-ports", group="web", add=True, actor=member)
