"""Cinder and Nova volume answers validated against tempest's own response schemas
(tempest/lib/api_schema/response/volume/ and compute/v2_1 attach/detach), as tempest checks them.
Skipped when tempest's schemas are not importable (see tests/compute/tempest_schemas.py)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from tests.compute.tempest_schemas import assert_valid, require


def valid(response: Any, module: str, name: str) -> None:
    """`response` matches tempest's `volume.<module>.<name>` schema (status and body)."""
    validator = require()
    spec = getattr(importlib.import_module(f"tempest.lib.api_schema.response.volume.{module}"), name)
    assert response.status_code in spec["status_code"], (response.status_code, response.content[:500])
    if "response_body" in spec:
        checker = validator.JSONSCHEMA_VALIDATOR(spec["response_body"], format_checker=validator.FORMAT_CHECKER)
        errors = sorted(checker.iter_errors(response.json()), key=str)
        assert not errors, f"{module}.{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


@pytest.fixture
def admin_cinder(cinder_for, admin_user, admin_project):
    return cinder_for(admin_user, admin_project, ("admin", "member", "reader"))


def test_volume_responses_match_tempest_schemas_when_served(cinder, admin_cinder, project, image):
    created = cinder.post("/volumes", {"volume": {"size": 1, "name": "v", "metadata": {"a": "b"}}})
    valid(created, "volumes", "create_volume")
    vid = created.json()["volume"]["id"]
    valid(cinder.get(f"/volumes/{vid}"), "volumes", "show_volume")
    valid(cinder.get("/volumes"), "volumes", "list_volumes_no_detail")
    valid(cinder.get("/volumes/detail"), "volumes", "list_volumes_with_detail")
    valid(cinder.put(f"/volumes/{vid}", {"volume": {"name": "w"}}), "volumes", "update_volume")
    valid(cinder.get(f"/volumes/{vid}/metadata"), "volumes", "show_volume_metadata")
    valid(cinder.post(f"/volumes/{vid}/metadata", {"metadata": {"c": "d"}}), "volumes", "create_volume_metadata")
    valid(cinder.put(f"/volumes/{vid}/metadata", {"metadata": {"c": "e"}}), "volumes", "update_volume_metadata")
    valid(cinder.get(f"/volumes/{vid}/metadata/c"), "volumes", "show_volume_metadata_item")
    valid(cinder.put(f"/volumes/{vid}/metadata/c", {"meta": {"c": "f"}}), "volumes", "update_volume_metadata_item")
    valid(cinder.post(f"/volumes/{vid}/action", {"os-extend": {"new_size": 2}}), "volumes", "extend_volume")
    from_image = cinder.post("/volumes", {"volume": {"size": 1, "imageRef": image}}).json()["volume"]["id"]
    valid(cinder.get(f"/volumes/{from_image}"), "volumes", "show_volume")
    admin_volume = admin_cinder.create(1)["id"]
    valid(admin_cinder.get(f"/volumes/{admin_volume}"), "volumes", "show_volume")
    valid(admin_cinder.get("/volumes/detail"), "volumes", "list_volumes_with_detail")
    valid(cinder.delete(f"/volumes/{vid}"), "volumes", "delete_volume")


def test_type_quota_limit_and_version_responses_match_tempest_schemas(cinder, admin_cinder, project):
    valid(cinder.get("/types"), "volume_types", "list_volume_types")
    type_id = cinder.get("/types").json()["volume_types"][0]["id"]
    valid(cinder.get(f"/types/{type_id}"), "volume_types", "show_volume_type")
    valid(cinder.get("/limits"), "limits", "show_limits")
    valid(cinder.get(f"/os-quota-sets/{project.pk}"), "quotas", "show_quota_set")
    valid(cinder.get(f"/os-quota-sets/{project.pk}?usage=True"), "quotas", "show_quota_set_usage")
    valid(cinder.get(f"/os-quota-sets/{project.pk}/defaults"), "quotas", "show_quota_set")
    update = admin_cinder.put(f"/os-quota-sets/{project.pk}", {"quota_set": {"volumes": 5}})
    valid(update, "quotas", "update_quota_set")
    valid(cinder.get("/snapshots"), "snapshots", "list_snapshots_no_detail")
    valid(cinder.get("/snapshots/detail"), "snapshots", "list_snapshots_with_detail")
    valid(cinder.get("/volume/"), "versions", "list_versions")


def test_nova_attach_responses_match_tempest_schemas_when_attaching(nova, cinder, booted):
    vid = cinder.create(1)["id"]
    attach = nova.post(f"/servers/{booted['id']}/os-volume_attachments", {"volumeAttachment": {"volumeId": vid}})
    assert_valid(attach, "servers", "attach_volume", "2.1")
    one = nova.get(f"/servers/{booted['id']}/os-volume_attachments/{vid}")
    assert_valid(one, "servers", "show_volume_attachment", "2.1")
    assert_valid(
        nova.get(f"/servers/{booted['id']}/os-volume_attachments"), "servers", "list_volume_attachments", "2.1"
    )
    for version in ("2.1", "2.3", "2.47"):
        shown = nova.get(f"/servers/{booted['id']}", version=version)
        assert_valid(shown, "servers", "get_server", version)
    detach = nova.delete(f"/servers/{booted['id']}/os-volume_attachments/{vid}")
    assert_valid(detach, "servers", "detach_volume", "2.1")
