"""Flavors: listing (filters, paging, visibility), admin create/delete, extra specs, access lists, seeding."""

from __future__ import annotations

import pytest

from compute.models import Flavor
from compute.services.flavors import DEFAULT_FLAVORS, seed_default_flavors
from tests.compute.helpers import fault

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [f["id"] for f in response.json()["flavors"]]


def private_flavor(admin_nova, flavor_id: str = "p1") -> None:
    body = {"flavor": {"name": f"private-{flavor_id}", "id": flavor_id, "ram": 128, "vcpus": 1, "disk": 1,
                       "os-flavor-access:is_public": False}}  # fmt: skip
    assert admin_nova.post("/flavors", body).status_code == 200


def test_seed_creates_default_flavors_once_when_run_twice(db):
    assert [f.name for f in seed_default_flavors()] == [name for _, name, *_ in DEFAULT_FLAVORS]
    assert seed_default_flavors() == []
    tiny = Flavor.objects.get(pk="1")
    assert (tiny.name, tiny.vcpus, tiny.ram, tiny.disk) == ("m1.tiny", 1, 512, 1)


def test_list_and_detail_show_flavors_by_id_when_public(nova, flavors):
    assert ids(nova.get("/flavors")) == ["1", "2", "3", "4"]
    detail = nova.get("/flavors/detail").json()["flavors"][0]
    assert (detail["ram"], detail["vcpus"], detail["disk"], detail["swap"]) == (512, 1, 1, "")
    assert detail["os-flavor-access:is_public"] is True and detail["links"][0]["rel"] == "self"


def test_list_filters_by_min_ram_and_min_disk(nova, flavors):
    assert ids(nova.get("/flavors?minRam=2048")) == ["2", "3", "4"]
    assert ids(nova.get("/flavors?minDisk=40")) == ["3", "4"]
    assert nova.get("/flavors?minRam=lots").status_code == 400


def test_list_pages_with_marker_and_links(nova, flavors):
    first = nova.get("/flavors?limit=2")
    assert ids(first) == ["1", "2"] and "marker=2" in first.json()["flavors_links"][0]["href"]
    assert ids(nova.get("/flavors?limit=2&marker=2")) == ["3", "4"]
    assert ids(nova.get("/flavors?sort_key=memory_mb&sort_dir=desc&limit=1&marker=3")) == ["2"]
    assert nova.get("/flavors?marker=nope").status_code == 400
    assert nova.get("/flavors?sort_key=secret").status_code == 400


def test_private_flavor_is_seen_only_by_projects_given_access(nova, other_nova, admin_nova, flavors):
    private_flavor(admin_nova)
    assert "p1" not in ids(nova.get("/flavors"))
    assert nova.get("/flavors/p1").status_code == 404
    granted = admin_nova.post("/flavors/p1/action", {"addTenantAccess": {"tenant": nova.project.pk}})
    assert granted.json()["flavor_access"] == [{"flavor_id": "p1", "tenant_id": nova.project.pk}]
    assert "p1" in ids(nova.get("/flavors")) and nova.get("/flavors/p1").status_code == 200
    assert other_nova.get("/flavors/p1").status_code == 404
    again = admin_nova.post("/flavors/p1/action", {"addTenantAccess": {"tenant": nova.project.pk}})
    assert again.status_code == 409
    assert admin_nova.post("/flavors/p1/action", {"removeTenantAccess": {"tenant": nova.project.pk}}).status_code == 200
    assert nova.get("/flavors/p1").status_code == 404
    assert admin_nova.get("/flavors/1/os-flavor-access").status_code == 404
    assert admin_nova.post("/flavors/1/action", {"addTenantAccess": {"tenant": nova.project.pk}}).status_code == 409


def test_admin_lists_private_flavors_with_is_public_none(admin_nova, flavors):
    private_flavor(admin_nova)
    assert "p1" not in ids(admin_nova.get("/flavors"))
    assert "p1" in ids(admin_nova.get("/flavors?is_public=none"))
    assert ids(admin_nova.get("/flavors?is_public=false")) == ["p1"]


def test_create_and_delete_are_admin_only(nova, admin_nova, flavors):
    body = {"flavor": {"name": "x", "ram": 64, "vcpus": 1, "disk": 0}}
    assert nova.post("/flavors", body).status_code == 403
    created = admin_nova.post("/flavors", body).json()["flavor"]
    assert len(created["id"]) == 36 and created["disk"] == 0
    assert nova.delete(f"/flavors/{created['id']}").status_code == 403
    assert admin_nova.delete(f"/flavors/{created['id']}").status_code == 202
    assert admin_nova.get(f"/flavors/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    ("flavor", "code"),
    [
        ({"name": "m1.tiny", "ram": 64, "vcpus": 1, "disk": 1}, 409),
        ({"name": "dup-id", "id": "1", "ram": 64, "vcpus": 1, "disk": 1}, 409),
        ({"name": "x", "ram": 0, "vcpus": 1, "disk": 1}, 400),
        ({"name": "x", "ram": "lots", "vcpus": 1, "disk": 1}, 400),
        ({"name": "x", "ram": 64, "vcpus": 1}, 400),
        ({"name": " x", "ram": 64, "vcpus": 1, "disk": 1}, 400),
        ({"name": "x", "ram": 64, "vcpus": 1, "disk": 1, "id": "bad/id"}, 400),
        ({"name": "x", "ram": 64, "vcpus": 1, "disk": 1, "rxtx_factor": 0}, 400),
        ({"name": "x", "ram": 64, "vcpus": 1, "disk": 1, "colour": "red"}, 400),
        ({"name": "x", "ram": 64, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": "maybe"}, 400),
    ],
)
def test_create_refuses_bad_or_duplicate_flavors(admin_nova, flavors, flavor, code):
    assert admin_nova.post("/flavors", {"flavor": flavor}).status_code == code


def test_extra_specs_are_set_read_and_removed_by_admin(nova, admin_nova, flavors):
    base = "/flavors/1/os-extra_specs"
    assert nova.post(base, {"extra_specs": {"a": "b"}}).status_code == 403
    set_specs = admin_nova.post(base, {"extra_specs": {"nefos:disk_template": "diskless", "hw:cpu": 2}})
    assert set_specs.json() == {"extra_specs": {"nefos:disk_template": "diskless", "hw:cpu": "2"}}
    assert nova.get(base).json()["extra_specs"]["hw:cpu"] == "2"
    assert nova.get(f"{base}/hw:cpu").json() == {"hw:cpu": "2"}
    assert admin_nova.put(f"{base}/hw:cpu", {"hw:cpu": "4"}).json() == {"hw:cpu": "4"}
    assert admin_nova.put(f"{base}/hw:cpu", {"other": "4"}).status_code == 400
    assert admin_nova.delete(f"{base}/hw:cpu").status_code == 200
    assert admin_nova.delete(f"{base}/hw:cpu").status_code == 404
    assert nova.get(f"{base}/hw:cpu").status_code == 404


@pytest.mark.parametrize(
    "specs", [{"nefos:disk_template": "floppy"}, {"bad/key": "x"}, {"k": "v" * 256}, {"k": None}, ["k"]]
)
def test_extra_specs_refuse_invalid_values(admin_nova, flavors, specs):
    response = admin_nova.post("/flavors/1/os-extra_specs", {"extra_specs": specs})
    assert response.status_code == 400, fault(response)


def test_server_uses_flavor_disk_template_when_extra_spec_set(
    nova, admin_nova, image, flavors, cluster, cloud, inline_jobs
):
    admin_nova.post("/flavors/1/os-extra_specs", {"extra_specs": {"nefos:disk_template": "diskless"}})
    created = nova.boot(image, "1")
    (vm,) = cloud.cluster("embedded").vms.values()
    assert vm.disk_template == "diskless"
    assert nova.show(created["id"])["flavor"]["extra_specs"] == {"nefos:disk_template": "diskless"}


def test_deleting_flavor_keeps_servers_built_from_it(nova, admin_nova, booted):
    assert admin_nova.delete("/flavors/1").status_code == 202
    assert nova.show(booted["id"])["flavor"]["original_name"] == "m1.tiny"


def test_bootstrap_seeds_default_flavors_when_run(db, monkeypatch):
    import io

    from django.core.management import call_command

    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", "bootstrap-pass")
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    assert sorted(Flavor.objects.values_list("name", flat=True)) == ["m1.large", "m1.medium", "m1.small", "m1.tiny"]
    assert "compute.services.flavors: flavors: 4 created" in out.getvalue()
    call_command("bootstrap", stdout=io.StringIO())
    assert Flavor.objects.count() == 4
