"""Pithos hashmaps, raw block uploads, versions, restore, the versioning policy and MOVE."""

from __future__ import annotations

import hashlib
import json

import pytest

from identity.services import quotas
from objectstore.models import Container

pytestmark = pytest.mark.django_db

BS = 4 * 1024 * 1024


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def box(swift):
    assert swift("PUT", "box").status_code == 201
    return swift


def test_hashmap_get_lists_block_hashes_when_object_spans_blocks(box):
    data = b"a" * BS + b"b" * 10
    box("PUT", "box", "big", data=data)
    got = box("GET", "box", "big", query={"hashmap": ""})
    doc = json.loads(got.content)
    assert got.status_code == 200
    assert doc == {
        "block_size": BS,
        "block_hash": "sha256",
        "hashes": [sha(b"a" * BS), sha(b"b" * 10)],
        "bytes": BS + 10,
    }
    head = box("HEAD", "box", "big", query={"hashmap": ""})
    assert head.status_code == 200 and head.content == b""


def test_hashmap_put_answers_409_with_missing_then_creates_when_blocks_posted(box):
    data = b"x" * BS + b"tail"
    hashmap = {"block_size": BS, "block_hash": "sha256", "hashes": [sha(b"x" * BS), sha(b"tail")], "bytes": len(data)}
    first = box("PUT", "box", "obj", data=json.dumps(hashmap).encode(), query={"hashmap": ""})
    assert first.status_code == 409 and sorted(json.loads(first.content)) == sorted(hashmap["hashes"])
    assert box("HEAD", "box", "obj").status_code == 404
    upload = box("POST", "box", data=data, query={"update": ""}, content_type="application/octet-stream")
    assert upload.status_code == 202 and upload.content.decode().split() == hashmap["hashes"]
    again = box("PUT", "box", "obj", data=json.dumps(hashmap).encode(), query={"hashmap": ""}, content_type="a/b")
    assert again.status_code == 201 and again["ETag"] == hashlib.md5(data).hexdigest()
    got = box("GET", "box", "obj")
    assert body(got) == data and got["Content-Type"] == "a/b"


def test_hashmap_put_reuses_blocks_and_charges_quota_when_object_exists(
    box, swift_project, django_capture_on_commit_callbacks
):
    data = b"q" * 1000
    with django_capture_on_commit_callbacks(execute=True):
        box("PUT", "box", "one", data=data)
    doc = json.loads(box("GET", "box", "one", query={"hashmap": ""}).content)
    with django_capture_on_commit_callbacks(execute=True):
        response = box("PUT", "box", "two", data=json.dumps(doc).encode(), query={"hashmap": ""})
    assert response.status_code == 201
    assert body(box("GET", "box", "two")) == data
    row = next(r for r in quotas.usage(swift_project) if r["resource"] == "objectstore.bytes")
    assert row["usage"] == 2000


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        json.dumps({"hashes": ["zz"], "bytes": 1}).encode(),
        json.dumps({"hashes": [], "bytes": 5}).encode(),
        json.dumps({"hashes": ["a" * 64], "bytes": -1}).encode(),
        json.dumps({"hashes": ["a" * 64], "bytes": 1, "block_size": 7}).encode(),
        json.dumps({"hashes": ["a" * 64], "bytes": 1, "block_hash": "md5"}).encode(),
        json.dumps({"hashes": "a", "bytes": True}).encode(),
    ],
)
def test_hashmap_put_answers_400_when_hashmap_malformed(box, payload):
    assert box("PUT", "box", "bad", data=payload, query={"hashmap": ""}).status_code == 400
    assert box("HEAD", "box", "bad").status_code == 404


def test_hashmap_put_answers_400_when_block_length_disagrees_with_bytes(box):
    box("POST", "box", data=b"short", query={"update": ""}, content_type="application/octet-stream")
    doc = {"hashes": [sha(b"short")], "bytes": 3}
    assert box("PUT", "box", "bad", data=json.dumps(doc).encode(), query={"hashmap": ""}).status_code == 400


def test_hashmap_put_answers_422_when_etag_mismatches(box):
    box("PUT", "box", "one", data=b"abc")
    doc = box("GET", "box", "one", query={"hashmap": ""}).content
    assert box("PUT", "box", "two", data=doc, query={"hashmap": ""}, HTTP_ETAG="0" * 32).status_code == 422
    assert box("HEAD", "box", "two").status_code == 404


def test_versions_list_read_and_restore_when_policy_auto(box):
    assert box("POST", "box", X_CONTAINER_POLICY_VERSIONING="auto").status_code == 204
    assert box("HEAD", "box")["X-Container-Policy-Versioning"] == "auto"
    box("PUT", "box", "doc", data=b"v1")
    box("PUT", "box", "doc", data=b"v2")
    listed = json.loads(box("GET", "box", "doc", query={"version": "list"}).content)["versions"]
    assert len(listed) == 2 and all(isinstance(ts, float) for _, ts in listed)
    old_id = str(listed[0][0])
    assert body(box("GET", "box", "doc", query={"version": old_id})) == b"v1"
    assert box("HEAD", "box", "doc", query={"version": old_id})["X-Object-Version"] == old_id
    ranged = box("GET", "box", "doc", query={"version": old_id}, HTTP_RANGE="bytes=1-")
    assert ranged.status_code == 206 and body(ranged) == b"1"
    assert box("POST", "box", "doc", X_SOURCE_VERSION=old_id).status_code == 201
    assert body(box("GET", "box", "doc")) == b"v1"
    assert len(json.loads(box("GET", "box", "doc", query={"version": "list"}).content)["versions"]) == 3


def test_versions_answer_404_when_version_unknown_or_foreign(box):
    box("PUT", "box", "a", data=b"1")
    box("PUT", "box", "b", data=b"2")
    b_id = json.loads(box("GET", "box", "b", query={"version": "list"}).content)["versions"][0][0]
    assert box("GET", "box", "a", query={"version": str(b_id)}).status_code == 404
    assert box("GET", "box", "a", query={"version": "x" * 50}).status_code == 404
    assert box("POST", "box", "a", X_SOURCE_VERSION="nope").status_code == 404
    assert box("GET", "box", "zzz", query={"version": "list"}).status_code == 404


def test_versioning_none_drops_history_when_switched(box, swift_project, django_capture_on_commit_callbacks):
    box("PUT", "box", X_CONTAINER_POLICY_VERSIONING="auto")
    with django_capture_on_commit_callbacks(execute=True):
        box("PUT", "box", "doc", data=b"11")
        box("PUT", "box", "doc", data=b"22")
        assert box("POST", "box", X_CONTAINER_POLICY_VERSIONING="none").status_code == 204
    assert Container.objects.get(name="box").versioning == "none"
    assert len(json.loads(box("GET", "box", "doc", query={"version": "list"}).content)["versions"]) == 1
    row = next(r for r in quotas.usage(swift_project) if r["resource"] == "objectstore.bytes")
    assert row["usage"] == 2
    assert box("POST", "box", X_CONTAINER_POLICY_VERSIONING="sometimes").status_code == 400


def test_move_verb_and_move_from_delete_the_source(box):
    box("PUT", "other")
    box("PUT", "box", "a", data=b"data")
    moved = box("MOVE", "box", "a", HTTP_DESTINATION="other/b")
    assert moved.status_code == 201
    assert box("HEAD", "box", "a").status_code == 404 and body(box("GET", "other", "b")) == b"data"
    assert box("PUT", "box", "c", HTTP_X_MOVE_FROM="other/b").status_code == 201
    assert box("HEAD", "other", "b").status_code == 404 and body(box("GET", "box", "c")) == b"data"
    assert box("MOVE", "box", "c").status_code == 400
    assert box("MOVE", "box", "missing", HTTP_DESTINATION="other/x").status_code == 404
    assert box("MOVE", "box", "c", HTTP_DESTINATION="nowhere").status_code == 412


def test_hashmap_put_reads_chunked_body_when_no_content_length(box):
    import io

    box("PUT", "box", "one", data=b"abc")
    doc = box("GET", "box", "one", query={"hashmap": ""}).content
    framed = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (doc[:10], doc[10:])) + b"0\r\n\r\n"
    extra = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(framed), "CONTENT_LENGTH": ""}
    assert box.request("PUT", box.url("box", "two"), query={"hashmap": ""}, **extra).status_code == 201
    assert body(box("GET", "box", "two")) == b"abc"


def test_hashmap_put_answers_400_when_body_too_large(box):
    big = b" " * (4 * 1024 * 1024 + 1)
    assert box("PUT", "box", "big", data=big, query={"hashmap": ""}).status_code == 400
