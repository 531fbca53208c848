"""Real clients against a live portal: the `openstack` CLI and openstacksdk on the Glance v2 API."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign
from tests.live import LivePortal

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scratch():
    """A private temporary directory, removed afterwards even when the test fails."""
    with tempfile.TemporaryDirectory(prefix="nefos-imgtest-") as path:
        yield Path(path)


def test_openstack_cli_runs_the_image_lifecycle_when_driven_by_a_user(openstack, clouds, scratch):
    source = scratch / "disk.raw"
    payload = os.urandom(3 * 1024 * 1024 + 123)
    source.write_bytes(payload)
    created = openstack(
        "image",
        "create",
        "--file",
        str(source),
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--property",
        "os_distro=cirros",
        "cli-image",
        "-f",
        "json",
    ).json()
    assert created["status"] == "active"
    assert created["checksum"] == hashlib.md5(payload, usedforsecurity=False).hexdigest()
    listed = openstack("image", "list", "-f", "json").json()
    assert "cli-image" in [i["Name"] for i in listed]
    shown = openstack("image", "show", "cli-image", "-f", "json").json()
    # OSC files the multihash fields under "properties" (as it does against Glance).
    assert shown["size"] == len(payload) and shown["properties"]["os_hash_algo"] == "sha512"
    assert shown["properties"]["os_hash_value"] == hashlib.sha512(payload).hexdigest()
    target = scratch / "saved.raw"
    openstack("image", "save", "--file", str(target), "cli-image")
    assert target.read_bytes() == payload
    openstack("image", "set", "--property", "colour=blue", "--name", "cli-image-2", "cli-image")
    shown = openstack("image", "show", "cli-image-2", "-f", "json").json()
    assert shown["properties"]["colour"] == "blue" and shown["properties"]["os_distro"] == "cirros"
    openstack("image", "unset", "--property", "colour", "cli-image-2")
    assert "colour" not in openstack("image", "show", "cli-image-2", "-f", "json").json()["properties"]
    openstack("image", "delete", "cli-image-2")
    assert openstack("image", "show", "cli-image-2", check=False).returncode != 0


def test_openstack_cli_shares_an_image_when_member_accepts(openstack, clouds, scratch):
    project = ProjectFactory(name="image-consumer")
    user = UserFactory(name="consumer")
    assign(user, project, "member", "reader")
    clouds.add_user("consumer", user.name, PASSWORD, project.name)
    source = scratch / "shared.raw"
    source.write_bytes(b"shared image bytes")
    image = openstack(
        "image",
        "create",
        "--file",
        str(source),
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--shared",
        "to-share",
        "-f",
        "json",
    ).json()
    openstack("image", "add", "project", "to-share", project.pk)
    members = openstack("image", "member", "list", "to-share", "-f", "json").json()
    assert [(m["Member ID"], m["Status"]) for m in members] == [(project.pk, "pending")]
    assert "to-share" not in [i["Name"] for i in openstack("image", "list", "-f", "json", cloud="consumer").json()]
    openstack("image", "set", "--accept", image["id"], cloud="consumer")
    assert "to-share" in [i["Name"] for i in openstack("image", "list", "-f", "json", cloud="consumer").json()]
    target = scratch / "got.raw"
    openstack("image", "save", "--file", str(target), image["id"], cloud="consumer")
    assert target.read_bytes() == b"shared image bytes"
    openstack("image", "remove", "project", "to-share", project.pk)
    assert openstack("image", "show", image["id"], cloud="consumer", check=False).returncode != 0


def test_openstacksdk_pages_and_finds_images_when_listing(portal: LivePortal):
    import openstack.connection

    conn = openstack.connection.Connection(session=portal.session())
    made = [
        conn.image.create_image(
            name=f"sdk-{i}", disk_format="raw", container_format="bare", data=b"d" * (i + 1), validate_checksum=True
        )
        for i in range(3)
    ]
    names = [image.name for image in conn.image.images(limit=1)]
    assert sorted(n for n in names if n.startswith("sdk-")) == ["sdk-0", "sdk-1", "sdk-2"]
    found = conn.image.find_image("sdk-1")
    assert found.id == made[1].id and found.size == 2
    conn.image.update_image(found, tags=["t1"], min_ram=64)
    assert conn.image.get_image(found.id).min_ram == 64
    assert b"".join(conn.image.download_image(found, stream=True).iter_content(1024)) == b"dd"
    for image in made:
        conn.image.delete_image(image)
    assert conn.image.find_image("sdk-1") is None
