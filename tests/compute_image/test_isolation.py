"""Cross-project isolation: another project's token gets 403/404 on every image endpoint, never data."""

from __future__ import annotations

import pytest

from tests.isolation import Probe, assert_isolated

pytestmark = pytest.mark.django_db

SECRET = b"victim-image-secret-bytes"


@pytest.fixture
def victim(glance, admin):
    """A private image with data, a shared image offered to a third project, and their names."""
    from tests.factories import ProjectFactory

    private = glance.create_active(SECRET, name="victim-private-name", visibility="private", note="victim-prop")
    shared = glance.create(name="victim-shared-name", tags=["victim-tag"])
    third = ProjectFactory()
    assert glance.post(f"/images/{shared['id']}/members", {"member": third.pk}).status_code == 200
    return {"private": private, "shared": shared, "third": third.pk}


def probes(image_id: str, member_id: str) -> list[Probe]:
    base = f"/image/v2/images/{image_id}"
    return [
        Probe("GET", base),
        Probe("DELETE", base),
        Probe("PATCH", base, [{"op": "replace", "path": "/name", "value": "x"}]),
        Probe("GET", f"{base}/file"),
        Probe("PUT", f"{base}/file", {"x": 1}),
        Probe("PUT", f"{base}/tags/new"),
        Probe("DELETE", f"{base}/tags/victim-tag"),
        Probe("POST", f"{base}/actions/deactivate"),
        Probe("POST", f"{base}/actions/reactivate"),
        Probe("GET", f"{base}/members"),
        Probe("POST", f"{base}/members", {"member": member_id}),
        Probe("GET", f"{base}/members/{member_id}"),
        Probe("PUT", f"{base}/members/{member_id}", {"status": "accepted"}),
        Probe("DELETE", f"{base}/members/{member_id}"),
    ]


FORBIDDEN = ("victim-private-name", "victim-shared-name", "victim-prop", "victim-tag", SECRET.decode())


@pytest.mark.parametrize("which", ["private", "shared"])
def test_outsider_gets_404_on_every_endpoint_when_image_foreign(victim, other, which):
    image = victim[which]
    assert_isolated(other.client, other.token, probes(image["id"], victim["third"]), FORBIDDEN, allowed=(404,))


@pytest.mark.parametrize("which", ["private", "shared"])
def test_outsider_list_never_shows_foreign_images_when_filtering(victim, other, which):
    image = victim[which]
    for query in (
        "",
        "?visibility=all",
        "?visibility=shared&member_status=all",
        f"?id={image['id']}",
        "?name=victim-private-name",
        "?tag=victim-tag",
        "?note=victim-prop",
    ):
        response = other.get(f"/images{query}")
        assert response.status_code == 200 and response.json()["images"] == []


def test_outsider_marker_answers_400_when_foreign_image(victim, other):
    assert other.get(f"/images?marker={victim['private']['id']}").status_code == 400


def test_reader_of_owner_project_cannot_write_when_reader_only(victim, reader):
    image = victim["shared"]
    for probe in probes(image["id"], victim["third"])[1:]:
        if probe.method == "GET":
            continue
        response = reader.client.generic(
            probe.method, probe.url, b"", content_type="application/json", HTTP_X_AUTH_TOKEN=reader.token
        )
        assert response.status_code in (400, 403, 415), f"{probe} -> {response.status_code}"
    assert reader.get(f"/images/{image['id']}").status_code == 200
