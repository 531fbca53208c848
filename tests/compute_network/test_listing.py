"""List semantics shared by every collection: filters, `fields`, sorting, limit/marker paging and links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.compute_network.helpers import V2, fault, make_network, make_port, make_subnet


@pytest.fixture
def nets(member_api) -> list[dict]:
    return [make_network(member_api, name=name) for name in ("delta", "alpha", "charlie", "bravo", "echo")]


def names(client, query: str) -> list[str]:
    response = client.get(f"{V2}/networks?{query}")
    assert response.status_code == 200, response.content
    return [n["name"] for n in response.json()["networks"]]


def test_list_filters_by_name_and_repeated_ids_when_given(member_api, nets):
    assert names(member_api, "name=alpha") == ["alpha"]
    query = f"id={nets[0]['id']}&id={nets[1]['id']}&sort_key=name"
    assert names(member_api, query) == ["alpha", "delta"]
    assert names(member_api, "id=not-a-uuid") == []
    assert names(member_api, "shared=false&sort_key=name&sort_dir=desc")[:2] == ["echo", "delta"]


def test_show_projects_on_fields_when_requested(member_api, nets):
    net = nets[0]
    sub = make_subnet(member_api, net["id"])
    port = make_port(member_api, net["id"])
    group = member_api.get(f"{V2}/security-groups").json()["security_groups"][0]
    for path, key, ident in (
        ("networks", "network", net["id"]),
        ("subnets", "subnet", sub["id"]),
        ("ports", "port", port["id"]),
        ("security-groups", "security_group", group["id"]),
        ("security-group-rules", "security_group_rule", group["security_group_rules"][0]["id"]),
    ):
        shown = member_api.get(f"{V2}/{path}/{ident}?fields=id&fields=name,description").json()[key]
        assert set(shown) == ({"id", "description"} if key == "security_group_rule" else {"id", "name", "description"})
        assert len(member_api.get(f"{V2}/{path}/{ident}").json()[key]) > 3


def test_list_is_400_when_a_boolean_filter_is_not_boolean(member_api, nets):
    response = member_api.get(f"{V2}/networks?shared=perhaps")
    assert response.status_code == 400 and "NeutronError" in response.json()


def test_fields_projects_each_item_when_requested(member_api, nets):
    items = member_api.get(f"{V2}/networks?fields=id&fields=name").json()["networks"]
    assert all(set(item) == {"id", "name"} for item in items)
    items = member_api.get(f"{V2}/networks?fields=name,status").json()["networks"]
    assert all(set(item) == {"name", "status"} for item in items)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort_key=bogus", "invalid attribute for sort_keys"),
        ("sort_key=name&sort_dir=sideways", "invalid value for sort_dirs"),
        ("sort_key=name&sort_dir=asc&sort_dir=desc", "must be same"),
        ("limit=-1", "Limit must be"),
        ("limit=ten", "Limit must be"),
    ],
)
def test_list_is_400_when_sorting_or_limit_is_invalid(member_api, nets, query, message):
    response = member_api.get(f"{V2}/networks?{query}")
    assert response.status_code == 400 and message in fault(response)["message"]


def test_marker_of_unknown_network_is_404_when_paging(member_api, nets):
    response = member_api.get(f"{V2}/networks?limit=2&marker=00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and fault(response)["type"] == "NetworkNotFound"


def test_pages_follow_next_links_through_every_item_when_limited(member_api, nets):
    seen: list[str] = []
    url = f"{V2}/networks?limit=2&sort_key=name&sort_dir=asc"
    pages = 0
    while url:
        body = member_api.get(url).json()
        seen += [n["name"] for n in body["networks"]]
        nxt = [link["href"] for link in body["networks_links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else ""
        pages += 1
    assert seen == ["alpha", "bravo", "charlie", "delta", "echo"] and pages == 3


def test_previous_link_and_page_reverse_return_the_earlier_page_when_followed(member_api, nets):
    first = member_api.get(f"{V2}/networks?limit=2&sort_key=name").json()
    assert [link["rel"] for link in first["networks_links"]] == ["next"]
    marker = parse_qs(urlsplit(first["networks_links"][0]["href"]).query)["marker"][0]
    second = member_api.get(f"{V2}/networks?limit=2&sort_key=name&marker={marker}").json()
    assert [n["name"] for n in second["networks"]] == ["charlie", "delta"]
    prev = next(link["href"] for link in second["networks_links"] if link["rel"] == "previous")
    back = member_api.get(prev.replace("http://testserver", "")).json()
    assert [n["name"] for n in back["networks"]] == ["alpha", "bravo"]


def test_descending_sort_pages_without_gaps_when_names_repeat(member_api):
    for i in range(4):
        make_network(member_api, name=f"same-{i % 2}")
    collected: list[str] = []
    marker = None
    while True:
        query = "limit=1&sort_key=name&sort_dir=desc" + (f"&marker={marker}" if marker else "")
        body = member_api.get(f"{V2}/networks?{query}").json()
        if not body["networks"]:
            break
        collected.append(body["networks"][0]["id"])
        marker = collected[-1]
    assert len(collected) == len(set(collected)) == 4


def test_no_links_key_when_list_is_not_limited(member_api, nets):
    assert "networks_links" not in member_api.get(f"{V2}/networks").json()


@pytest.mark.parametrize(
    "collection", ["networks", "subnets", "ports", "floatingips", "security-groups", "security-group-rules"]
)
def test_every_collection_sorts_and_pages_when_asked(member_api, collection):
    response = member_api.get(f"{V2}/{collection}?limit=1&sort_key=id&sort_dir=desc&fields=id")
    assert response.status_code == 200
    key = collection.replace("-", "_")
    assert key in response.json() and f"{key}_links" in response.json()
