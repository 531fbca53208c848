"""Real clients against a live portal: python-swiftclient and the `openstack` CLI (object store)."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest
from swiftclient import client as swift_client
from swiftclient.exceptions import ClientException

from tests.live import LivePortal

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024


@pytest.fixture
def conn(portal: LivePortal) -> swift_client.Connection:
    """A swiftclient connection as the bootstrapped admin on the admin project (Keystone v3 session)."""
    return swift_client.Connection(session=portal.session(), retries=0)


@pytest.fixture
def scratch():
    """A private temporary directory, removed afterwards even when the test fails (large files)."""
    with tempfile.TemporaryDirectory(prefix="nefos-objtest-") as path:
        yield Path(path)


def write_random_file(path: Path, size: int) -> str:
    """Write `size` random bytes to `path` one MiB at a time; return their MD5."""
    md5 = hashlib.md5(usedforsecurity=False)
    with path.open("wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            md5.update(chunk)
            handle.write(chunk)
            left -= len(chunk)
    return md5.hexdigest()


def test_swiftclient_roundtrips_100mib_with_md5_when_uploaded_and_downloaded(conn, scratch, capsys):
    source = scratch / "big.bin"
    size = 100 * MiB
    digest = write_random_file(source, size)
    conn.put_container("big")
    started = time.perf_counter()
    with source.open("rb") as handle:
        etag = conn.put_object("big", "big.bin", contents=handle, content_length=size)
    upload_s = time.perf_counter() - started
    assert etag == digest
    started = time.perf_counter()
    headers, body = conn.get_object("big", "big.bin", resp_chunk_size=MiB)
    md5 = hashlib.md5(usedforsecurity=False)
    received = 0
    target = scratch / "copy.bin"
    with target.open("wb") as out:
        for chunk in body:
            md5.update(chunk)
            out.write(chunk)
            received += len(chunk)
    download_s = time.perf_counter() - started
    assert received == size
    assert md5.hexdigest() == digest == headers["etag"]
    assert int(headers["content-length"]) == size
    with capsys.disabled():
        rates = f"upload {100 / upload_s:.0f} MB/s, download {100 / download_s:.0f} MB/s"
        sys.stdout.write(f"\n100 MiB via swiftclient: {rates}\n")


def test_swiftclient_pages_full_listing_when_more_objects_than_limit(conn):
    conn.put_container("many")
    names = [f"obj-{i:04d}" for i in range(25)]
    for name in names:
        conn.put_object("many", name, contents=name.encode())
    _, page = conn.get_container("many", limit=10)
    assert [o["name"] for o in page] == names[:10]
    _, everything = conn.get_container("many", limit=10, full_listing=True)
    assert [o["name"] for o in everything] == names
    _, containers = conn.get_account(full_listing=True)
    assert any(c["name"] == "many" and c["count"] == 25 for c in containers)


def test_swiftclient_handles_metadata_copy_delete_when_used_like_a_user(conn):
    # Bootstrap may have stored things in the admin account already (the public image's data).
    containers_before = int(conn.get_account()[0]["x-account-container-count"])
    conn.put_container("docs", headers={"X-Container-Meta-Colour": "blue"})
    assert conn.head_container("docs")["x-container-meta-colour"] == "blue"
    conn.put_object("docs", "a/readme.txt", contents=b"hello", headers={"X-Object-Meta-Owner": "ann"})
    assert conn.head_object("docs", "a/readme.txt")["x-object-meta-owner"] == "ann"
    conn.post_object("docs", "a/readme.txt", headers={"X-Object-Meta-Owner": "bob", "Content-Type": "text/x-readme"})
    assert conn.head_object("docs", "a/readme.txt")["x-object-meta-owner"] == "bob"
    conn.copy_object("docs", "a/readme.txt", destination="/docs/b/readme.txt")
    headers, body = conn.get_object("docs", "b/readme.txt")
    assert body == b"hello" and headers["x-object-meta-owner"] == "bob"
    conn.put_object("docs", "c.txt", contents=b"", headers={"X-Copy-From": "/docs/a/readme.txt"})
    assert conn.get_object("docs", "c.txt")[1] == b"hello"
    _, listing = conn.get_container("docs", delimiter="/")
    assert [e.get("subdir", e.get("name")) for e in listing] == ["a/", "b/", "c.txt"]
    for name in ("a/readme.txt", "b/readme.txt", "c.txt"):
        conn.delete_object("docs", name)
    with pytest.raises(ClientException) as err:
        conn.get_object("docs", "c.txt")
    assert err.value.http_status == 404
    conn.delete_container("docs")
    assert int(conn.get_account()[0]["x-account-container-count"]) == containers_before


def test_openstack_cli_creates_lists_and_saves_objects_when_driven_by_a_user(openstack, scratch):
    source = scratch / "hello.txt"
    source.write_bytes(b"hello from the cli\n")
    openstack("container", "create", "cli-box")
    listed = openstack("container", "list", "-f", "json").json()
    assert "cli-box" in [c["Name"] for c in listed]
    openstack("object", "create", "cli-box", str(source), "--name", "hello.txt")
    objects_listed = openstack("object", "list", "cli-box", "-f", "json").json()
    assert [o["Name"] for o in objects_listed] == ["hello.txt"]
    target = scratch / "saved.txt"
    openstack("object", "save", "cli-box", "hello.txt", "--file", str(target))
    assert target.read_bytes() == b"hello from the cli\n"
