"""Image pages: the visible images, upload from a file (raw body), register from an object of the
project's object store, delete own images; another project's private image is a 404."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from compute.image.models import Image
from objectstore.services import containers, objects, uploads

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db

UPLOAD = "/cloud/images/upload/?name=my-disk&disk_format=raw&container_format=bare"


def _upload(client, send, body: bytes, url: str = UPLOAD):
    return send(client.post, url, body, content_type="application/octet-stream")


def test_image_list_shows_public_and_own_images_when_opened(carol_client, send, image):
    _upload(carol_client, send, b"x" * 1000)
    response = carol_client.get("/cloud/images/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="image-{image}"' in html and "my-disk" in html
    assert html.count('badge text-bg-light">mine') == 1


def test_image_upload_stores_bytes_and_activates_when_body_sent(carol_client, send, carol_project):
    body = bytes(range(256)) * 4096
    response = _upload(carol_client, send, body)
    assert response.status_code == 201, response.content
    created = Image.objects.get(pk=response.json()["id"])
    assert (created.status, created.size, created.project_id) == ("active", len(body), carol_project.pk)
    assert created.checksum == hashlib.md5(body, usedforsecurity=False).hexdigest()
    assert created.visibility == "private"


def test_image_upload_is_400_and_creates_nothing_when_format_unknown(carol_client, send, carol_project):
    response = _upload(
        carol_client, send, b"abc", url="/cloud/images/upload/?name=x&disk_format=floppy&container_format=bare"
    )
    assert response.status_code == 400
    assert not Image.objects.filter(project=carol_project).exists()


def test_image_register_copies_object_when_it_exists(carol, carol_client, send, carol_project):
    box, _ = containers.put_container(carol_project, "disks", metadata={}, actor=carol)
    body = b"disk image bytes " * 10000
    data = uploads.store_bytes(body, block_size=box.block_size)
    objects.put_object(
        box, "cirros.img", data, objects.ObjectAttrs(content_type="application/octet-stream"), actor=carol
    )
    form = {
        "name": "from-object",
        "disk_format": "qcow2",
        "container_format": "bare",
        "container": "disks",
        "object_name": "cirros.img",
    }
    response = send(carol_client.post, "/cloud/images/register/", form, follow=True)
    assert "was registered" in response.content.decode()
    created = Image.objects.get(project=carol_project, name="from-object")
    assert (created.status, created.size) == ("active", len(body))
    assert created.checksum == hashlib.md5(body, usedforsecurity=False).hexdigest()


def test_image_register_shows_message_when_object_missing(carol_client, send, carol_project):
    form = {"name": "x", "disk_format": "raw", "container_format": "bare", "container": "no", "object_name": "pe"}
    response = send(carol_client.post, "/cloud/images/register/", form, follow=True)
    assert "no such object" in response.content.decode()
    assert not Image.objects.filter(project=carol_project).exists()


def test_image_delete_removes_own_image_when_asked(carol_client, send):
    image_id = _upload(carol_client, send, b"abc").json()["id"]
    response = send(carol_client.post, f"/cloud/images/{image_id}/delete/")
    assert response.status_code == 302
    assert not Image.objects.filter(pk=image_id).exists()


def test_image_delete_is_404_or_refused_when_image_not_owned(dave, dave_project, carol_client, send, image):
    dave_client = Client()
    dave_client.force_login(dave)
    foreign = _upload(dave_client, send, b"daves").json()["id"]
    assert carol_client.post(f"/cloud/images/{foreign}/delete/").status_code == 404
    assert Image.objects.filter(pk=foreign).exists()
    refused = send(carol_client.post, f"/cloud/images/{image}/delete/", follow=True)
    assert "not permitted" in refused.content.decode()
    assert Image.objects.filter(pk=image).exists()
    assert "daves" not in carol_client.get("/cloud/images/").content.decode()
