"""The cross-app interface Nova uses (BootImage, image_for_boot, find_image) and the seeded image."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from compute.image.models import Image
from compute.image.services.boot import BootImage, find_image, image_for_boot
from compute.image.services.seed import SEED_NAME, SEED_SIZE, seed_content, seed_default_image
from identity.tokens import decode
from portal.errors import NotFound
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def ctx_of(client) -> object:
    return decode(client.token)


def test_image_for_boot_describes_active_image_when_visible(glance):
    image = glance.create_active(b"disk" * 100, name="deb", min_disk=2, min_ram=256, disk_format="qcow2")
    boot = image_for_boot(ctx=ctx_of(glance), image_id=image["id"])
    assert boot == BootImage(
        id=image["id"],
        name="deb",
        size=400,
        min_disk=2,
        min_ram=256,
        disk_format="qcow2",
        container_format="bare",
        os="",
        os_params={},
    )


def test_image_for_boot_maps_nefos_properties_when_set(glance):
    params = {"img_id": "${image_object}", "img_format": "${disk_format}", "distro": "${os_distro}", "fixed": "1"}
    image = glance.create_active(
        b"x", os_distro="debian", **{"nefos:os": "image+default", "nefos:os_params": json.dumps(params)}
    )
    boot = image_for_boot(ctx=ctx_of(glance), image_id=image["id"])
    assert boot.os == "image+default"
    assert boot.os_params == {
        "img_id": f"AUTH_{image['owner']}/images/{image['id']}",
        "img_format": "raw",
        "distro": "debian",
        "fixed": "1",
    }


def test_image_for_boot_uses_site_default_os_when_image_has_none(glance, settings):
    settings.IMAGE_DEPLOY_OS = "snf-image+default"
    settings.IMAGE_DEPLOY_OS_PARAMS = {"img_id": "${image_url}", "img_checksum": "${checksum}"}
    image = glance.create_active(b"abc")
    boot = image_for_boot(ctx=ctx_of(glance), image_id=image["id"])
    assert boot.os == "snf-image+default"
    assert boot.os_params["img_id"].endswith(f"/image/v2/images/{image['id']}/file")
    assert boot.os_params["img_checksum"] == image["checksum"]


def test_image_for_boot_ignores_malformed_os_params_when_not_json(glance):
    image = glance.create_active(b"abc", **{"nefos:os_params": "{not json"})
    assert image_for_boot(ctx=ctx_of(glance), image_id=image["id"]).os_params == {}


@pytest.mark.parametrize("state", ["queued", "deactivated"])
def test_image_for_boot_raises_not_found_when_not_active(glance, state):
    image = glance.create() if state == "queued" else glance.create_active()
    if state == "deactivated":
        glance.post(f"/images/{image['id']}/actions/deactivate")
    with pytest.raises(NotFound):
        image_for_boot(ctx=ctx_of(glance), image_id=image["id"])


def test_image_for_boot_raises_not_found_when_invisible_or_unknown(glance, other):
    image = glance.create_active(visibility="private")
    for image_id in (image["id"], "nope", "5b6f0a53-7d9b-4b7c-9a1e-3f3c2d1e0a99"):
        with pytest.raises(NotFound):
            image_for_boot(ctx=ctx_of(other), image_id=image_id)


def test_image_for_boot_raises_not_found_when_data_object_deleted(glance, project, member):
    image = glance.create_active(b"gone soon")
    url = f"/v1/AUTH_{project.pk}/images/{image['id']}"
    assert Client().delete(url, HTTP_X_AUTH_TOKEN=make_token(member, project)).status_code == 204
    with pytest.raises(NotFound):
        image_for_boot(ctx=ctx_of(glance), image_id=image["id"])


def test_find_image_accepts_id_or_href_when_visible(glance, other):
    image = glance.create(visibility="community")
    assert find_image(ctx=ctx_of(glance), ref=image["id"]).pk == image["id"]
    assert find_image(ctx=ctx_of(other), ref=f"http://h/image/v2/images/{image['id']}").pk == image["id"]
    with pytest.raises(NotFound):
        find_image(ctx=ctx_of(other), ref="cirros")


def test_seed_creates_public_labelled_image_once_when_called_twice(admin_user, other):
    from identity.models import Project

    owner = Project.objects.get(name="admin")
    first = seed_default_image(owner_project=owner)
    again = seed_default_image(owner_project=owner)
    assert first.pk == again.pk and Image.objects.filter(name=SEED_NAME).count() == 1
    shown = other.get(f"/images/{first.pk}").json()
    assert shown["visibility"] == "public" and shown["status"] == "active" and shown["size"] == SEED_SIZE
    assert "SIMULATED" in shown["description"] and shown["nefos:simulated"] == "true"
    assert first.pk in [i["id"] for i in other.get("/images").json()["images"]]
    assert b"".join(other.get(f"/images/{first.pk}/file").streaming_content) == seed_content()
    assert image_for_boot(ctx=ctx_of(other), image_id=first.pk).name == SEED_NAME
