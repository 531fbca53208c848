"""The create-server wizard: its choices, the quota impact before submitting (and its htmx
refresh), creating servers on the fake cluster, and the ledger's refusal when over quota."""

from __future__ import annotations

import pytest

from compute.models import Keypair, Server
from compute.network.models import Network

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db


def test_wizard_offers_images_flavors_networks_and_keys_when_opened(
    carol, carol_client, flavors, image, network, dave, dave_project
):
    Keypair.objects.create(user_id=carol.pk, name="laptop", public_key="ssh-ed25519 AAAA", fingerprint="x")
    Network.objects.create(project=dave_project, name="daves-net")
    response = carol_client.get("/cloud/servers/new/")
    assert response.status_code == 200
    form = response.context["form"]
    assert [c[0] for c in form.fields["image"].choices] == [image]
    assert [c[0] for c in form.fields["flavor"].choices] == ["1", "2", "3", "4"]
    networks = [label for _value, label in form.fields["network"].choices]
    assert "private" in networks and "daves-net" not in networks
    assert ("laptop", "laptop") in form.fields["key_name"].choices
    html = response.content.decode()
    assert 'id="quota-impact"' in html and "1 \u00d7 m1.tiny" in html


def test_quota_preview_adds_request_to_usage_when_flavor_and_count_given(carol, carol_project, carol_client, flavors):
    response = carol_client.get("/cloud/servers/new/quota/?flavor=3&count=3")
    assert response.status_code == 200
    rows = {row.resource: row for row in response.context["impact"]}
    assert (rows["compute.cores"].request, rows["compute.cores"].limit) == (6, 20)
    assert rows["compute.servers"].request == 3
    assert rows["compute.ram_mib"].request == 3 * 4096
    assert rows["compute.disk_gib"].request == 3 * 40
    assert not response.context["impact_over"]
    assert "<html" not in response.content.decode()


def test_quota_preview_counts_existing_usage_when_servers_exist(boot, carol_client, inline_jobs):
    boot("web", count=2, flavor="2")
    response = carol_client.get("/cloud/servers/new/quota/?flavor=2&count=1")
    rows = {row.resource: row for row in response.context["impact"]}
    assert (rows["compute.servers"].used, rows["compute.servers"].request) == (2, 1)
    assert rows["compute.ram_mib"].used == 4096
    assert "2 + 1 of 10" in response.content.decode()


def test_quota_preview_flags_over_limit_when_request_too_big(carol_client, flavors):
    response = carol_client.get("/cloud/servers/new/quota/?flavor=4&count=10")
    html = response.content.decode()
    assert response.context["impact_over"]
    assert 'id="impact-over"' in html
    assert 'data-resource="compute.cores" data-over="true"' in html
    assert 'data-resource="compute.servers" data-over="false"' in html


def test_quota_preview_ignores_unknown_flavor_and_bad_count(carol_client, flavors):
    response = carol_client.get("/cloud/servers/new/quota/?flavor=nope&count=abc")
    assert response.status_code == 200
    assert all(row.request == 0 for row in response.context["impact"])


def test_wizard_creates_active_server_when_submitted(boot, carol_project, carol_client, inline_jobs):
    server = boot("web")
    assert server.project_id == carol_project.pk
    server.refresh_from_db()
    assert (server.vm_state, server.flavor_name) == ("active", "m1.tiny")
    assert "web" in carol_client.get("/cloud/servers/").content.decode()


def test_wizard_creates_numbered_servers_when_count_above_one(boot, carol_project, inline_jobs):
    boot("batch", count=3)
    names = sorted(Server.objects.filter(project=carol_project).values_list("name", flat=True))
    assert names == ["batch-1", "batch-2", "batch-3"]


def test_wizard_refuses_with_ledger_message_when_over_quota(
    carol_client, send, flavors, image, network, cluster, carol_project
):
    data = {"name": "huge", "count": 10, "image": image, "flavor": "4", "network": str(network.pk)}
    response = send(carol_client.post, "/cloud/servers/new/", data)
    assert response.status_code == 403
    assert "Quota exceeded for" in response.content.decode()
    assert not Server.objects.filter(project=carol_project).exists()


def test_wizard_rejects_foreign_network_with_400_when_posted(
    carol_client, send, flavors, image, cluster, dave, dave_project, carol_project
):
    foreign = Network.objects.create(project=dave_project, name="daves-net")
    data = {"name": "x", "count": 1, "image": image, "flavor": "1", "network": str(foreign.pk)}
    response = send(carol_client.post, "/cloud/servers/new/", data)
    assert response.status_code == 400
    assert not Server.objects.filter(project=carol_project).exists()


def test_wizard_uses_auto_network_when_chosen(carol_client, send, flavors, image, cluster, carol_project, inline_jobs):
    data = {"name": "auto", "count": 1, "image": image, "flavor": "1", "network": "auto"}
    response = send(carol_client.post, "/cloud/servers/new/", data)
    assert response.status_code == 302
    assert Network.objects.filter(project=carol_project, auto_allocated=True).exists()
