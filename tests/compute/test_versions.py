"""Version discovery and microversion negotiation (OpenStack-API-Version / X-OpenStack-Nova-API-Version)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from compute.api import microversions
from compute.api.microversions import MAX, MIN, Version
from portal.errors import ValidationFailed
from tests.compute.helpers import fault

pytestmark = pytest.mark.django_db


def test_versions_list_advertises_v21_with_max_microversion_when_no_token():
    response = APIClient().get("/compute/")
    assert response.status_code == 200
    (version,) = response.json()["versions"]
    assert (version["id"], version["status"], version["version"], version["min_version"]) == (
        "v2.1",
        "CURRENT",
        str(MAX),
        "2.1",
    )
    assert version["links"][0]["href"].endswith("/compute/v2.1/")


def test_version_document_describes_v21_when_asked_without_slash():
    response = APIClient().get("/compute/v2.1")
    assert response.status_code == 200
    body = response.json()["version"]
    assert body["version"] == "2.47" and body["min_version"] == "2.1"
    assert body["media-types"][0]["type"].startswith("application/vnd.openstack.compute+json")


def test_response_echoes_requested_microversion_when_new_header_sent(nova, flavors):
    response = nova.get("/flavors", version="2.19")
    assert response.status_code == 200
    assert response["OpenStack-API-Version"] == "compute 2.19"
    assert response["X-OpenStack-Nova-API-Version"] == "2.19"
    assert "OpenStack-API-Version" in response["Vary"] and "X-OpenStack-Nova-API-Version" in response["Vary"]


def test_response_uses_21_when_no_version_header(nova, flavors):
    nova.version = None
    response = nova.get("/flavors")
    assert response["OpenStack-API-Version"] == "compute 2.1"


def test_legacy_header_selects_version_when_new_header_absent(nova, flavors):
    nova.version = None
    response = nova.client.get(
        "/compute/v2.1/flavors", HTTP_X_AUTH_TOKEN=nova.token, HTTP_X_OPENSTACK_NOVA_API_VERSION="2.10"
    )
    assert response["X-OpenStack-Nova-API-Version"] == "2.10"


def test_latest_selects_max_when_asked(nova, flavors):
    assert nova.get("/flavors", version="latest")["OpenStack-API-Version"] == f"compute {MAX}"


@pytest.mark.parametrize("version", ["2.48", "2.96", "3.0", "1.1", "2.0"])
def test_unsupported_microversion_is_406_when_outside_range(nova, version):
    response = nova.get("/flavors", version=version)
    assert response.status_code == 406
    assert "is not supported by the API" in fault(response)["message"]


@pytest.mark.parametrize("version", ["2", "2.x", "two", "2.1.1", "2.01"])
def test_malformed_microversion_is_400_when_not_major_minor(nova, version):
    response = nova.get("/flavors", version=version)
    assert response.status_code == 400
    assert "invalid format" in fault(response)["message"]


def test_parse_picks_compute_entry_when_header_lists_several_services():
    assert microversions.parse("volume 3.10, compute 2.26") == Version(2, 26)
    assert microversions.parse("volume 3.10") == MIN
    with pytest.raises(ValidationFailed):
        microversions.parse("compute 2.")


def test_unknown_path_is_nova_404_when_under_v21(nova):
    response = nova.get("/no-such-thing")
    assert response.status_code == 404
    assert "itemNotFound" in response.json()


def test_api_refuses_missing_token_with_401(db):
    response = APIClient().get("/compute/v2.1/servers")
    assert response.status_code == 401
