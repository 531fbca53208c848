"""Keystone v3 read-only catalog and domains: `/v3/services`, `/v3/endpoints`, `/v3/regions`, `/v3/domains`."""

from __future__ import annotations

import pytest

from identity.models import Endpoint, Service
from identity.services import catalog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalog(db):
    catalog.seed_catalog("RegionOne")


def test_services_listed_and_filtered_when_admin(admin_api):
    response = admin_api.get("/identity/v3/services")
    assert response.status_code == 200
    assert {s["type"] for s in response.json()["services"]} >= {"identity", "compute", "object-store"}
    only = admin_api.get("/identity/v3/services?type=identity").json()["services"]
    assert [s["name"] for s in only] == ["keystone"]
    shown = admin_api.get(f"/identity/v3/services/{only[0]['id']}").json()["service"]
    assert shown["type"] == "identity" and shown["links"]["self"].endswith(f"/services/{only[0]['id']}")


def test_endpoints_listed_with_public_url_and_project_placeholder_when_admin(admin_api):
    swift = Service.objects.get(type="object-store")
    response = admin_api.get(f"/identity/v3/endpoints?service_id={swift.pk}&interface=public")
    endpoints = response.json()["endpoints"]
    assert len(endpoints) == 1
    assert endpoints[0]["url"] == "http://testserver/v1/AUTH_$(project_id)s"
    assert endpoints[0]["region_id"] == "RegionOne" and endpoints[0]["service_id"] == swift.pk
    shown = admin_api.get(f"/identity/v3/endpoints/{endpoints[0]['id']}").json()["endpoint"]
    assert shown["interface"] == "public"


def test_endpoints_filtered_by_region_when_given(admin_api):
    assert admin_api.get("/identity/v3/endpoints?region_id=Elsewhere").json()["endpoints"] == []
    assert (
        len(admin_api.get("/identity/v3/endpoints?region_id=RegionOne").json()["endpoints"]) == Endpoint.objects.count()
    )


@pytest.mark.parametrize("path", ["/identity/v3/services", "/identity/v3/endpoints", "/identity/v3/domains"])
def test_catalog_admin_listing_403_when_not_admin(member_api, path):
    response = member_api.get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 403


@pytest.mark.parametrize("path", ["services", "endpoints", "regions", "domains"])
def test_catalog_object_404_when_unknown(admin_api, path):
    assert admin_api.get(f"/identity/v3/{path}/nope").status_code == 404


def test_catalog_read_only_405_when_posting(admin_api):
    assert admin_api.post("/identity/v3/services", {"service": {"type": "x"}}, format="json").status_code == 405


def test_regions_listed_when_any_token(member_api):
    response = member_api.get("/identity/v3/regions")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["regions"]] == ["RegionOne"]
    assert member_api.get("/identity/v3/regions/RegionOne").json()["region"]["parent_region_id"] is None


def test_domains_listed_when_admin(admin_api):
    response = admin_api.get("/identity/v3/domains")
    assert [d["id"] for d in response.json()["domains"]] == ["default"]
    assert admin_api.get("/identity/v3/domains?name=Nope").json()["domains"] == []


def test_default_domain_shown_when_token_in_it(member_api):
    response = member_api.get("/identity/v3/domains/default")
    assert response.status_code == 200
    assert response.json()["domain"]["enabled"] is True
    assert response.json()["domain"]["name"] == "Default"


def test_foreign_domain_403_when_not_admin(member_api):
    assert member_api.get("/identity/v3/domains/elsewhere").status_code == 403
