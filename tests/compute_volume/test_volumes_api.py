"""Cinder's volume API: create, list, show, update, metadata, extend, delete, bad input."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from compute.volume.models import Volume
from identity.services import quotas


def test_volume_create_is_available_at_once_when_blank(cinder, member, project):
    volume = cinder.create(2, name="v1", description="data", metadata={"a": "b"})
    assert (volume["status"], volume["size"], volume["name"], volume["volume_type"]) == ("available", 2, "v1", "file")
    assert volume["metadata"] == {"a": "b"} and volume["attachments"] == []
    assert volume["bootable"] == "false" and volume["user_id"] == str(member.pk)
    shown = cinder.show(volume["id"])
    assert shown["os-vol-tenant-attr:tenant_id"] == str(project.pk)
    assert "os-vol-host-attr:host" not in shown


def test_volume_listing_shows_only_summaries_when_not_detailed(cinder):
    first, second = cinder.create(1, name="a"), cinder.create(1, name="b")
    listed = cinder.get("/volumes").json()["volumes"]
    assert [v["id"] for v in listed] == [second["id"], first["id"]]
    assert set(listed[0]) == {"id", "name", "links"}
    detail = cinder.get("/volumes/detail").json()["volumes"]
    assert {v["name"] for v in detail} == {"a", "b"} and all("status" in v for v in detail)


def test_volume_listing_pages_when_limit_and_marker_given(cinder):
    ids = [cinder.create(1, name=f"v{i}")["id"] for i in range(3)]
    page = cinder.get("/volumes?limit=2").json()
    assert [v["id"] for v in page["volumes"]] == ids[::-1][:2]
    assert "marker=" in page["volumes_links"][0]["href"]
    rest = cinder.get(f"/volumes?limit=2&marker={ids[1]}").json()
    assert [v["id"] for v in rest["volumes"]] == [ids[0]] and "volumes_links" not in rest


def test_volume_update_changes_name_and_metadata_when_put(cinder):
    volume = cinder.create(1, name="old")
    response = cinder.put(f"/volumes/{volume['id']}", {"volume": {"name": "new", "metadata": {"k": "v"}}})
    assert response.status_code == 200, response.content
    assert (response.json()["volume"]["name"], response.json()["volume"]["metadata"]) == ("new", {"k": "v"})
    merged = cinder.post(f"/volumes/{volume['id']}/metadata", {"metadata": {"x": "y"}})
    assert merged.json()["metadata"] == {"k": "v", "x": "y"}
    assert cinder.get(f"/volumes/{volume['id']}/metadata/x").json() == {"meta": {"x": "y"}}
    assert cinder.delete(f"/volumes/{volume['id']}/metadata/x").status_code == 200
    assert cinder.show(volume["id"])["metadata"] == {"k": "v"}


def test_volume_extend_grows_size_and_charge_when_available(cinder, project):
    volume = cinder.create(1)
    response = cinder.post(f"/volumes/{volume['id']}/action", {"os-extend": {"new_size": 3}})
    assert response.status_code == 202, response.content
    assert cinder.show(volume["id"])["size"] == 3
    usage = {row["resource"]: row["usage"] for row in quotas.usage(project)}
    assert usage["volume.gib"] == 3 and usage["volume.volumes"] == 1


def test_volume_extend_is_refused_when_new_size_not_larger(cinder):
    volume = cinder.create(2)
    response = cinder.post(f"/volumes/{volume['id']}/action", {"os-extend": {"new_size": 2}})
    assert response.status_code == 400
    assert "greater than 2" in response.json()["badRequest"]["message"]


def test_volume_delete_removes_row_and_releases_quota_when_never_attached(cinder, project):
    volume = cinder.create(4)
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    assert not Volume.objects.filter(pk=volume["id"]).exists()
    assert cinder.get(f"/volumes/{volume['id']}").status_code == 404
    usage = {row["resource"]: row["usage"] for row in quotas.usage(project)}
    assert usage["volume.gib"] == 0 and usage["volume.volumes"] == 0


def test_volume_create_is_413_with_cinder_message_when_over_gigabytes_quota(cinder, project):
    quotas.set_limit(project, "volume.gib", 2, actor=None)
    cinder.create(1)
    response = cinder.post("/volumes", {"volume": {"size": 2}})
    assert response.status_code == 413
    message = response.json()["overLimit"]["message"]
    assert message.startswith("VolumeSizeExceedsAvailableQuota") and "Requested 2G, quota is 2G and 1G" in message
    assert Volume.objects.count() == 1


def test_volume_create_is_413_when_over_volumes_quota(cinder, project):
    quotas.set_limit(project, "volume.volumes", 1, actor=None)
    cinder.create(1)
    response = cinder.post("/volumes", {"volume": {"size": 1}})
    assert response.status_code == 413
    assert (
        response.json()["overLimit"]["message"] == "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    )


def test_volume_extend_is_413_when_over_gigabytes_quota(cinder, project):
    quotas.set_limit(project, "volume.gib", 2, actor=None)
    volume = cinder.create(1)
    response = cinder.post(f"/volumes/{volume['id']}/action", {"os-extend": {"new_size": 5}})
    assert response.status_code == 413
    assert cinder.show(volume["id"])["size"] == 1


def test_volume_create_records_image_metadata_when_from_image(cinder, image):
    volume = cinder.create(1, imageRef=image)
    shown = cinder.show(volume["id"])
    assert shown["bootable"] == "true" and shown["volume_image_metadata"]["image_id"] == image


BAD_CREATES = [
    ({"volume": {"size": 0}}, "greater than 0"),
    ({"volume": {"size": "big"}}, "must be an integer"),
    ({"volume": {"size": 1, "snapshot_id": "00000000-0000-0000-0000-000000000001"}}, "could not be found"),
    ({"volume": {"size": 1, "volume_type": "nope"}}, None),
    ({"volume": {"size": 1, "imageRef": "00000000-0000-0000-0000-000000000001"}}, "unable to access"),
    ({"volume": {"size": 1, "bogus": 1}}, "Unexpected key"),
    ({"volume": {"size": 1, "metadata": {"k": 5}}}, "must be a string"),
    ({"volume": "x"}, "Missing required element"),
    ([1, 2], "JSON object"),
]


def test_volume_create_is_clear_fault_when_input_is_bad(cinder):
    for body, words in BAD_CREATES:
        response = cinder.post("/volumes", body)
        assert response.status_code in (400, 404), (body, response.content)
        fault = next(iter(response.json().values()))
        assert set(fault) == {"code", "message"} and fault["code"] == response.status_code
        if words:
            assert words in fault["message"], (body, fault)
    assert Volume.objects.count() == 0


def test_volume_malformed_json_is_400_when_body_is_not_json(cinder):
    response = cinder.post("/volumes", "{not json")
    assert response.status_code == 400 and "badRequest" in response.json()


def test_snapshot_create_is_400_naming_reason_when_asked(cinder):
    assert cinder.get("/snapshots").json() == {"snapshots": []}
    assert cinder.get("/snapshots/detail").json() == {"snapshots": []}
    response = cinder.post("/snapshots", {"snapshot": {"volume_id": "x"}})
    assert response.status_code == 400 and "can snapshot a disk" in response.json()["badRequest"]["message"]


def test_volume_types_list_seeded_templates_when_listed(cinder):
    types = cinder.get("/types").json()["volume_types"]
    assert {t["name"] for t in types} == {"file", "drbd", "plain"}
    default = cinder.get("/types/default").json()["volume_type"]
    assert default["name"] == "file" and default["extra_specs"]["ganeti:disk_template"] == "file"


def test_unknown_path_is_cinder_404_when_not_served(cinder):
    response = cinder.get("/no-such-thing")
    assert response.status_code == 404 and "itemNotFound" in response.json()


def test_microversion_above_max_is_406_when_asked(cinder):
    cinder.version = "3.70"
    response = cinder.get("/volumes")
    assert response.status_code == 406
    cinder.version = "3.0"
    response = cinder.get("/volumes")
    assert response.status_code == 200 and response["OpenStack-API-Version"] == "volume 3.0"


def test_volume_listing_gives_next_link_when_page_is_full_even_at_the_end(cinder):
    ids = [cinder.create(1, name=f"v{i}")["id"] for i in range(2)]
    page = cinder.get("/volumes?limit=1").json()
    assert [v["id"] for v in page["volumes"]] == [ids[1]] and page["volumes_links"][0]["rel"] == "next"
    last = cinder.get(f"/volumes?limit=1&marker={ids[1]}").json()
    assert [v["id"] for v in last["volumes"]] == [ids[0]] and "volumes_links" in last
    empty = cinder.get(f"/volumes?limit=1&marker={ids[0]}").json()
    assert empty["volumes"] == [] and "volumes_links" not in empty


def test_volume_listing_follows_sort_key_and_dir_when_given(cinder):
    ids = sorted(cinder.create(1, name=f"v{i}")["id"] for i in range(3))
    ascending = cinder.get("/volumes/detail?sort_key=id&sort_dir=asc&status=available").json()["volumes"]
    assert [v["id"] for v in ascending] == ids
    descending = cinder.get("/volumes?sort_key=id&sort_dir=desc").json()["volumes"]
    assert [v["id"] for v in descending] == ids[::-1]
    after = cinder.get(f"/volumes/detail?sort=id:asc&marker={ids[0]}").json()["volumes"]
    assert [v["id"] for v in after] == ids[1:]
    by_name = cinder.get("/volumes?sort=name:desc").json()["volumes"]
    assert [v["name"] for v in by_name] == ["v2", "v1", "v0"]


def test_volume_listing_is_400_when_sort_key_unknown(cinder):
    response = cinder.get("/volumes?sort_key=password")
    assert response.status_code == 400 and "sort key" in response.json()["badRequest"]["message"]


def test_empty_volume_id_is_404_when_get_put_or_delete(cinder):
    cinder.create(1)
    for method in ("get", "delete"):
        response = cinder.call(method, "/volumes/")
        assert response.status_code == 404 and "itemNotFound" in response.json(), method
    response = cinder.put("/volumes/", {"volume": {"name": "x"}})
    assert response.status_code == 404 and "itemNotFound" in response.json()


def test_volume_create_is_404_when_snapshot_or_source_volume_unknown(cinder):
    missing = "00000000-0000-0000-0000-000000000001"
    for key in ("snapshot_id", "source_volid"):
        response = cinder.post("/volumes", {"volume": {"size": 1, key: missing}})
        assert response.status_code == 404 and "itemNotFound" in response.json(), key
    source = cinder.create(1)
    response = cinder.post("/volumes", {"volume": {"size": 1, "source_volid": source["id"]}})
    assert response.status_code == 400 and "Cloning" in response.json()["badRequest"]["message"]
    assert Volume.objects.count() == 1


def test_volume_listing_keeps_only_matching_metadata_and_bootable_when_filtered(cinder):
    # Found by tempest (test_volume_list_with_detail_param_metadata, ..._details_by_bootable): the
    # filters were ignored, so another worker's volume in the same project showed up.
    work = cinder.create(1, name="w", metadata={"Type": "work", "Env": "lab"})
    cinder.create(1, name="h", metadata={"Type": "home"})
    boot = cinder.create(1, name="b")
    assert cinder.post(f"/volumes/{boot['id']}/action", {"os-set_bootable": {"bootable": True}}).status_code == 200

    by_meta = cinder.get("/volumes/detail?" + urlencode({"metadata": "{'Type': 'work'}"})).json()["volumes"]
    assert [v["id"] for v in by_meta] == [work["id"]]
    both = cinder.get("/volumes?" + urlencode({"metadata": "{'Type': 'work', 'Env': 'prod'}"})).json()["volumes"]
    assert both == []
    not_bootable = cinder.get("/volumes/detail?bootable=false").json()["volumes"]
    assert {v["name"] for v in not_bootable} == {"w", "h"}
    assert [v["name"] for v in cinder.get("/volumes/detail?bootable=True").json()["volumes"]] == ["b"]
    odd = cinder.create(1, name="o", metadata={"a__b": "1", "exact": "2"})
    query = urlencode({"metadata": "{'a__b': '1', 'exact': '2'}"})
    assert [v["id"] for v in cinder.get(f"/volumes?{query}").json()["volumes"]] == [odd["id"]]


@pytest.mark.parametrize("query", ["bootable=maybe", "metadata=Type", "metadata=%7B1%3A+2%7D", "metadata=__import__"])
def test_volume_listing_is_400_when_filter_is_malformed(cinder, query):
    response = cinder.get(f"/volumes?{query}")
    assert response.status_code == 400, response.content
