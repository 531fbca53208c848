"""Listing servers: filters, sorting, keyset paging with servers_links, admin scopes, query counts."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compute.models import Server
from compute.services.states import PowerState, TaskState, VmState
from tests.compute.helpers import fault

pytestmark = pytest.mark.django_db


def make_servers(project, count: int, **fields) -> list[Server]:
    """Rows straight in the database (listing does not care how they were built)."""
    base = timezone.now() - datetime.timedelta(hours=1)
    rows = []
    for i in range(count):
        values = {
            "project": project,
            "user_id": "u",
            "name": f"srv-{i:03d}",
            "vm_state": VmState.ACTIVE,
            "power_state": PowerState.RUNNING,
            "flavor_id": "1",
            "flavor_name": "m1.tiny",
            "vcpus": 1,
            "ram": 512,
            "disk": 1,
            "image_id": "img",
            "created_at": base + datetime.timedelta(seconds=i),
            "updated_at": base + datetime.timedelta(seconds=i),
        }
        values.update(fields)
        rows.append(Server(**values))
    return Server.objects.bulk_create(rows)


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [s["name"] for s in response.json()["servers"]]


def test_list_orders_newest_first_and_pages_with_links_when_limit_given(nova, project):
    make_servers(project, 5)
    first = nova.get("/servers?limit=2")
    assert names(first) == ["srv-004", "srv-003"]
    link = first.json()["servers_links"][0]
    assert link["rel"] == "next"
    query = parse_qs(urlsplit(link["href"]).query)
    assert query["limit"] == ["2"] and query["marker"] == [first.json()["servers"][-1]["id"]]
    second = nova.get(f"/servers?limit=2&marker={query['marker'][0]}")
    assert names(second) == ["srv-002", "srv-001"]
    third = nova.get(f"/servers/detail?limit=2&marker={second.json()['servers'][-1]['id']}")
    assert names(third) == ["srv-000"] and "servers_links" not in third.json()


def test_list_is_empty_without_links_when_limit_is_zero(nova, project):
    make_servers(project, 3)
    for path in ("/servers?limit=0", "/servers/detail?limit=0"):
        response = nova.get(path)
        assert names(response) == [] and "servers_links" not in response.json()
    assert len(names(nova.get("/servers"))) == 3


def test_list_pages_by_sort_key_when_names_repeat(nova, project):
    make_servers(project, 4, name="same")
    seen = []
    marker = ""
    while True:
        page = nova.get(f"/servers?sort_key=display_name&sort_dir=asc&limit=1{marker}").json()
        seen += [s["id"] for s in page["servers"]]
        if "servers_links" not in page:
            break
        marker = f"&marker={page['servers'][-1]['id']}"
    assert len(seen) == 4 and len(set(seen)) == 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=x", "limit param must be an integer"),
        ("limit=-1", "limit param must be positive"),
        ("marker=00000000-0000-0000-0000-000000000000", "marker [00000000-0000-0000-0000-000000000000] not found"),
        ("marker=junk", "marker [junk] not found"),
        ("sort_key=password", "Invalid sort_key"),
        ("sort_key=host", "Invalid sort_key"),
        ("sort_dir=sideways", "Invalid sort_dir"),
        ("changes-since=yesterday", "changes-since"),
        ("name=(unclosed", "name filter"),
        ("ip=[", "ip filter"),
        ("status=NOPE", "Invalid status value"),
    ],
)
def test_list_is_400_when_query_is_invalid(nova, project, query, message):
    make_servers(project, 1)
    response = nova.get(f"/servers/detail?{query}")
    assert response.status_code == 400, response.content
    assert message in fault(response)["message"]


def test_list_ignores_unknown_status_before_238(nova, project):
    make_servers(project, 1)
    assert names(nova.get("/servers?status=NOPE", version="2.37")) == []


def test_list_filters_by_name_regex_status_image_and_flavor(nova, project):
    make_servers(project, 3)
    make_servers(project, 1, name="db-1", vm_state=VmState.STOPPED, image_id="other", flavor_id="2")
    make_servers(project, 1, name="rebooting", task_state=TaskState.REBOOTING)
    assert names(nova.get("/servers?name=^srv-00[12]$")) == ["srv-002", "srv-001"]
    assert names(nova.get("/servers?status=SHUTOFF")) == ["db-1"]
    assert names(nova.get("/servers?status=REBOOT")) == ["rebooting"]
    assert "rebooting" not in names(nova.get("/servers?status=ACTIVE"))
    assert names(nova.get("/servers?image=other")) == ["db-1"]
    assert names(nova.get("/servers?flavor=2")) == ["db-1"]
    assert names(nova.get("/servers?flavor=http://x/flavors/2")) == ["db-1"]


def test_list_hides_deleted_unless_changes_since_asks(nova, project):
    live, gone = make_servers(project, 2)
    Server.objects.filter(pk=gone.pk).update(vm_state=VmState.DELETED, deleted_at=timezone.now())
    assert names(nova.get("/servers")) == [live.name]
    since = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = nova.get(f"/servers/detail?changes-since={since}").json()["servers"]
    assert {s["status"] for s in listed} == {"ACTIVE", "DELETED"}
    assert nova.get("/servers?status=DELETED").status_code == 403


def test_list_filters_by_tags_when_226(nova, project):
    a, b, c = make_servers(project, 3)
    for server, tags in ((a, ["x", "y"]), (b, ["x"]), (c, [])):
        for tag in tags:
            server.tags.create(tag=tag)
    assert sorted(names(nova.get("/servers?tags=x,y"))) == ["srv-000"]
    assert sorted(names(nova.get("/servers?tags-any=x,y"))) == ["srv-000", "srv-001"]
    assert sorted(names(nova.get("/servers?not-tags=x,y"))) == ["srv-001", "srv-002"]
    assert sorted(names(nova.get("/servers?not-tags-any=y"))) == ["srv-001", "srv-002"]
    assert len(names(nova.get("/servers?tags=x,y", version="2.25"))) == 3


def test_list_filters_by_ip_regex_when_ports_bound(nova, booted):
    address = booted["addresses"]["private"][0]["addr"]
    assert names(nova.get(f"/servers?ip={address.replace('.', '[.]')}")) == [booted["name"]]
    assert names(nova.get("/servers?ip=^192[.]")) == []


def test_all_tenants_is_admin_only_and_lists_every_project(nova, admin_nova, project, other_project):
    make_servers(project, 1)
    make_servers(other_project, 1, name="theirs")
    assert nova.get("/servers?all_tenants=1").status_code == 403
    assert sorted(names(admin_nova.get("/servers?all_tenants=1"))) == ["srv-000", "theirs"]
    assert names(admin_nova.get(f"/servers?all_tenants=1&project_id={other_project.pk}")) == ["theirs"]
    assert names(admin_nova.get("/servers")) == []


def test_detail_listing_costs_same_queries_for_5_and_25_servers(nova, project, booted):
    make_servers(project, 4)

    def count() -> int:
        reset_queries()  # a request resets the log when it starts: count from zero
        with CaptureQueriesContext(connection) as captured:
            assert nova.get("/servers/detail").status_code == 200
        return len(captured.captured_queries)

    small = count()
    make_servers(project, 20)
    assert count() == small
    assert 3 <= small <= 12
