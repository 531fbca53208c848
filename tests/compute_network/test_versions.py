"""Discovery: the versions list (no token), the v2.0 resources, extensions, and Neutron's 404 for unknown paths."""

from __future__ import annotations

import pytest

from compute.network.api.versions import EXTENSIONS
from tests.compute_network.helpers import V2, fault


@pytest.mark.parametrize("path", ["/network", "/network/"])
def test_versions_list_current_v2_when_fetched_without_token(client, path):
    response = client.get(path)
    assert response.status_code == 200
    (version,) = response.json()["versions"]
    assert version["id"] == "v2.0" and version["status"] == "CURRENT"
    assert version["links"] == [{"href": "http://testserver/network/v2.0/", "rel": "self"}]


def test_resources_list_every_collection_when_v2_is_fetched(client):
    resources = client.get("/network/v2.0/").json()["resources"]
    assert {r["collection"] for r in resources} >= {"networks", "subnets", "ports", "floatingips", "security-groups"}
    assert all(r["links"][0]["href"].startswith("http://testserver/network/v2.0/") for r in resources)


def test_extensions_list_only_implemented_aliases_when_listed(member_api):
    aliases = [e["alias"] for e in member_api.get(f"{V2}/extensions").json()["extensions"]]
    assert aliases == sorted(EXTENSIONS)
    assert "router" not in aliases and "security-group" in aliases and "external-net" in aliases


def test_extension_show_is_404_when_alias_is_not_implemented(member_api):
    assert member_api.get(f"{V2}/extensions/security-group").json()["extension"]["alias"] == "security-group"
    response = member_api.get(f"{V2}/extensions/router")
    assert response.status_code == 404 and fault(response)["type"] == "ExtensionNotFound"


def test_collections_need_a_token_when_called_anonymously(client):
    response = client.get(f"{V2}/networks")
    assert response.status_code == 401
    assert "NeutronError" in response.json()


def test_unknown_path_is_neutron_404_when_under_network(member_api):
    response = member_api.get(f"{V2}/routers")
    assert response.status_code == 404
    assert fault(response)["type"] == "HTTPNotFound"


def test_json_suffix_is_accepted_when_clients_add_it(member_api):
    assert member_api.get(f"{V2}/networks.json").status_code == 200


def test_unscoped_token_is_refused_when_calling_neutron(api, token_for, member):
    response = api(token_for(member, None)).get(f"{V2}/networks")
    assert response.status_code == 403


def test_reader_may_list_but_not_create_when_read_only(reader_api):
    assert reader_api.get(f"{V2}/networks").status_code == 200
    response = reader_api.post(f"{V2}/networks", {"network": {"name": "x"}}, format="json")
    assert response.status_code == 403 and fault(response)["type"] == "PolicyNotAuthorized"
