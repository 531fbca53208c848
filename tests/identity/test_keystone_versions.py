"""Keystone version discovery: `/identity`, `/identity/v3`, `/identity/v2.0`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/identity", "/identity/"])
def test_versions_multiple_choices_when_root_requested(api, path):
    response = api().get(path)
    assert response.status_code == 300
    values = {v["id"]: v for v in response.json()["versions"]["values"]}
    v3 = values["v3.14"]
    assert v3["status"] == "stable"
    assert v3["links"][0] == {"rel": "self", "href": "http://testserver/identity/v3/"}
    assert {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"} in v3["media-types"]
    assert set(v3) >= {"id", "links", "media-types", "status", "updated"}
    assert values["v2.0"]["status"] == "deprecated"


@pytest.mark.parametrize("path", ["/identity/v3", "/identity/v3/"])
def test_v3_version_document_returned_when_requested_without_token(api, path):
    response = api().get(path)
    assert response.status_code == 200
    version = response.json()["version"]
    assert version["id"] == "v3.14"
    assert version["updated"].endswith("Z")


def test_v2_version_document_deprecated_when_requested(api):
    response = api().get("/identity/v2.0")
    assert response.status_code == 200
    assert response.json()["version"]["id"] == "v2.0"
    assert response.json()["version"]["status"] == "deprecated"


def test_public_url_used_in_links_when_configured(api, settings):
    settings.PORTAL_PUBLIC_URL = "https://cloud.example.org"
    response = api().get("/identity/v3")
    assert response.json()["version"]["links"][0]["href"] == "https://cloud.example.org/identity/v3/"


def test_unknown_identity_path_json_404_when_not_routed(api):
    response = api().get("/identity/v3/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


def test_versions_method_not_allowed_json_when_posted(api):
    response = api().post("/identity/v3", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == 405
