"""Network and floating IP pages: create a private network with its subnet, add and delete subnets,
delete networks (refused while in use), allocate, associate, disassociate and release floating IPs;
another project's network or floating IP is a 404."""

from __future__ import annotations

import uuid

import pytest

from compute.network.models import FloatingIP, Network, Subnet
from compute.network.services.floating_ips import create_floating_ip
from compute.network.services.networks import NetworkSpec, create_network

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db


def test_network_list_shows_own_and_public_networks_when_present(
    carol_client, network, public_network, dave, dave_project
):
    create_network(dave_project, NetworkSpec(name="daves-net"), actor=dave)
    html = carol_client.get("/cloud/networks/").content.decode()
    assert f'id="network-{network.pk}"' in html and "10.10.0.0/24" in html
    assert "external (floating IPs)" in html and "203.0.113.0/24" in html
    assert "daves-net" not in html


def test_network_create_makes_network_and_subnet_when_valid(carol_client, send, carol_project):
    data = {"name": "backend", "cidr": "192.168.50.0/24", "subnet_name": "backend-v4", "enable_dhcp": "on"}
    response = send(carol_client.post, "/cloud/networks/new/", data)
    assert response.status_code == 302
    network = Network.objects.get(project=carol_project, name="backend")
    [subnet] = network.subnets.all()
    assert (subnet.cidr, subnet.gateway_ip, subnet.enable_dhcp) == ("192.168.50.0/24", "192.168.50.1", True)


def test_network_create_makes_nothing_when_cidr_invalid(carol_client, send, carol_project):
    response = send(carol_client.post, "/cloud/networks/new/", {"name": "bad", "cidr": "192.168.50.7/24"}, follow=True)
    assert "recognized IP subnet cidr" in response.content.decode()
    assert not Network.objects.filter(project=carol_project).exists()


def test_subnet_add_and_delete_work_when_network_is_own(carol_client, send, network):
    send(carol_client.post, f"/cloud/networks/{network.pk}/subnets/", {"cidr": "10.11.0.0/24"})
    assert sorted(network.subnets.values_list("cidr", flat=True)) == ["10.10.0.0/24", "10.11.0.0/24"]
    overlapping = send(
        carol_client.post, f"/cloud/networks/{network.pk}/subnets/", {"cidr": "10.11.0.0/25"}, follow=True
    )
    assert "overlaps" in overlapping.content.decode()
    added = network.subnets.get(cidr="10.11.0.0/24")
    send(carol_client.post, f"/cloud/subnets/{added.pk}/delete/")
    assert list(network.subnets.values_list("cidr", flat=True)) == ["10.10.0.0/24"]


def test_network_delete_is_refused_with_message_when_server_uses_it(boot, carol_client, send, network, inline_jobs):
    boot("web")
    response = send(carol_client.post, f"/cloud/networks/{network.pk}/delete/", follow=True)
    assert "still in use" in response.content.decode()
    assert Network.objects.filter(pk=network.pk).exists()


def test_network_delete_removes_network_when_unused(carol_client, send, network):
    send(carol_client.post, f"/cloud/networks/{network.pk}/delete/")
    assert not Network.objects.filter(pk=network.pk).exists()
    assert not Subnet.objects.filter(network_id=network.pk).exists()


def test_network_pages_are_404_when_network_foreign(carol_client, dave, dave_project, public_network):
    foreign = create_network(dave_project, NetworkSpec(name="daves-net"), actor=dave)
    assert carol_client.post(f"/cloud/networks/{foreign.pk}/delete/").status_code == 404
    assert carol_client.post(f"/cloud/networks/{public_network.pk}/delete/").status_code == 404
    assert carol_client.post(f"/cloud/networks/{foreign.pk}/subnets/", {"cidr": "10.9.0.0/24"}).status_code == 404
    public_subnet = public_network.subnets.first()
    assert carol_client.post(f"/cloud/subnets/{public_subnet.pk}/delete/").status_code == 404
    assert carol_client.post(f"/cloud/networks/{uuid.uuid4()}/delete/").status_code == 404
    assert Network.objects.filter(pk=foreign.pk).exists()


def test_floating_ip_lifecycle_when_server_exists(boot, carol_client, send, public_network, carol_project, inline_jobs):
    server = boot("web")
    send(carol_client.post, "/cloud/floating-ips/new/", {"network": str(public_network.pk)})
    fip = FloatingIP.objects.get(project=carol_project)
    assert fip.floating_ip_address.startswith("203.0.113.")
    page = carol_client.get("/cloud/floating-ips/")
    [(port_id, label)] = page.context["associate_form"].fields["port"].choices
    assert label.startswith("web — 10.10.0.")
    send(carol_client.post, f"/cloud/floating-ips/{fip.pk}/associate/", {"port": port_id})
    fip.refresh_from_db()
    assert fip.port_id is not None and fip.fixed_ip_address.startswith("10.10.0.")
    assert "(web)" in carol_client.get("/cloud/floating-ips/").content.decode()
    detail = carol_client.get(f"/cloud/servers/{server.pk}/").content.decode()
    assert fip.floating_ip_address in detail
    send(carol_client.post, f"/cloud/floating-ips/{fip.pk}/disassociate/")
    fip.refresh_from_db()
    assert fip.port_id is None
    send(carol_client.post, f"/cloud/floating-ips/{fip.pk}/release/")
    assert not FloatingIP.objects.filter(pk=fip.pk).exists()


def test_floating_ip_allocate_shows_quota_message_when_over_limit(carol_client, send, public_network, carol_project):
    for _ in range(5):
        send(carol_client.post, "/cloud/floating-ips/new/", {"network": str(public_network.pk)})
    response = send(carol_client.post, "/cloud/floating-ips/new/", {"network": str(public_network.pk)}, follow=True)
    assert "Quota exceeded" in response.content.decode()
    assert FloatingIP.objects.filter(project=carol_project).count() == 5


def test_floating_ip_actions_are_404_when_address_foreign(carol_client, dave, dave_project, public_network):
    foreign = create_floating_ip(dave_project, public_network, actor=dave)
    for action in ("associate", "disassociate", "release"):
        assert carol_client.post(f"/cloud/floating-ips/{foreign.pk}/{action}/").status_code == 404
    assert foreign.floating_ip_address not in carol_client.get("/cloud/floating-ips/").content.decode()
    assert FloatingIP.objects.filter(pk=foreign.pk).exists()
