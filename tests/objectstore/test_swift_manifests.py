"""DLO and SLO: concatenated reads, ETags, ranges across segments, manifest get/put/delete, validation."""

from __future__ import annotations

import hashlib
import json

import pytest

pytestmark = pytest.mark.django_db


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture
def segments(swift):
    """Container `segs` with seg/1..3 holding aaa, bbb, ccc."""
    assert swift("PUT", "segs").status_code == 201
    for i, body in enumerate((b"aaa", b"bbb", b"ccc"), 1):
        assert swift("PUT", "segs", f"seg/{i}", data=body).status_code == 201
    return swift


def test_dlo_get_concatenates_segments_when_manifest_header_set(segments):
    swift = segments
    assert swift("PUT", "segs", "big", X_OBJECT_MANIFEST="segs/seg/", CONTENT_LENGTH="0").status_code == 201
    response = swift("GET", "segs", "big")
    assert b"".join(response.streaming_content) == b"aaabbbccc"
    assert response["ETag"] == f'"{md5((md5(b"aaa") + md5(b"bbb") + md5(b"ccc")).encode())}"'
    head = swift("HEAD", "segs", "big")
    assert head["Content-Length"] == "9" and head["X-Object-Manifest"] == "segs/seg/"
    ranged = swift("GET", "segs", "big", HTTP_RANGE="bytes=2-6")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == b"abbbc"
    raw = swift("GET", "segs", "big", query={"multipart-manifest": "get"})
    assert raw.status_code == 200 and raw["X-Object-Manifest"] == "segs/seg/"


def test_dlo_put_gets_400_when_manifest_header_malformed(segments):
    assert segments("PUT", "segs", "big", X_OBJECT_MANIFEST="nocontainer", CONTENT_LENGTH="0").status_code == 400


def _slo(swift, name="slo", **extra):
    body = [
        {"path": "/segs/seg/1", "etag": md5(b"aaa"), "size_bytes": 3},
        {"path": "/segs/seg/2", "etag": None, "size_bytes": None, "range": "1-1"},
        {"path": "/segs/seg/3"},
    ]
    return swift("PUT", "segs", name, data=json.dumps(body).encode(), query={"multipart-manifest": "put"}, **extra)


def test_slo_get_concatenates_segments_and_ranges_when_manifest_put(segments):
    swift = segments
    response = _slo(swift)
    assert response.status_code == 201
    get = swift("GET", "segs", "slo")
    assert b"".join(get.streaming_content) == b"aaabccc"
    assert get["X-Static-Large-Object"] == "True"
    expected = md5((md5(b"aaa") + f"{md5(b'bbb')}:1-1;" + md5(b"ccc")).encode())
    assert get["ETag"] == f'"{expected}"' == response["ETag"]
    ranged = swift("GET", "segs", "slo", HTTP_RANGE="bytes=-4")
    assert b"".join(ranged.streaming_content) == b"bccc"
    manifest = json.loads(swift("GET", "segs", "slo", query={"multipart-manifest": "get"}).content)
    assert [entry["name"] for entry in manifest] == ["/segs/seg/1", "/segs/seg/2", "/segs/seg/3"]


def test_slo_put_gets_400_when_segment_missing_or_etag_wrong(segments):
    swift = segments
    bad = [{"path": "/segs/nope"}, {"path": "/segs/seg/1", "etag": "0" * 32}]
    response = swift("PUT", "segs", "slo", data=json.dumps(bad).encode(), query={"multipart-manifest": "put"})
    assert response.status_code == 400
    assert b"404 Not Found" in response.content and b"Etag Mismatch" in response.content
    for body in (b"not json", b"{}", b"[]", b'[{"path": 5}]', b'[{"path": "/segs/seg/1", "size_bytes": "x"}]'):
        assert swift("PUT", "segs", "s", data=body, query={"multipart-manifest": "put"}).status_code == 400
    assert swift("HEAD", "segs", "slo").status_code == 404


def test_slo_delete_removes_segments_when_multipart_manifest_delete(segments):
    swift = segments
    _slo(swift)
    response = swift("DELETE", "segs", "slo", query={"multipart-manifest": "delete"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert json.loads(response.content)["Number Deleted"] == 4
    assert (
        swift("GET", "segs", query={"format": "json"}).status_code == 204
        or json.loads(swift("GET", "segs", query={"format": "json"}).content) == []
    )


def test_slo_copy_materialises_content_when_copied(segments):
    swift = segments
    _slo(swift)
    assert swift("PUT", "segs", "copy", HTTP_X_COPY_FROM="segs/slo").status_code == 201
    copy = swift("GET", "segs", "copy")
    assert b"".join(copy.streaming_content) == b"aaabccc"


def test_slo_data_segments_are_served_inline_when_put_with_data(segments):
    import base64

    swift = segments
    body = [{"data": base64.b64encode(b"PRE").decode()}, {"path": "/segs/seg/1"}, {"data": "!!notbase64"}]
    bad = swift("PUT", "segs", "mixed", data=json.dumps(body).encode(), query={"multipart-manifest": "put"})
    assert bad.status_code == 400
    body[2] = {"data": base64.b64encode(b"POST").decode()}
    assert (
        swift("PUT", "segs", "mixed", data=json.dumps(body).encode(), query={"multipart-manifest": "put"}).status_code
        == 201
    )
    assert b"".join(swift("GET", "segs", "mixed").streaming_content) == b"PREaaaPOST"
    listed = json.loads(swift("GET", "segs", "mixed", query={"multipart-manifest": "get"}).content)
    assert listed[0] == {"data": base64.b64encode(b"PRE").decode()}


def test_dlo_post_turns_object_into_manifest_and_back_when_header_given(segments):
    swift = segments
    assert swift("PUT", "segs", "plain", data=b"plain").status_code == 201
    assert swift("POST", "segs", "plain", X_OBJECT_MANIFEST="segs/seg/").status_code == 202
    assert b"".join(swift("GET", "segs", "plain").streaming_content) == b"aaabbbccc"
    assert swift("POST", "segs", "plain").status_code == 202
    assert b"".join(swift("GET", "segs", "plain").streaming_content) == b"plain"


def test_slo_part_number_reads_one_part_when_given(segments):
    swift = segments
    _slo(swift)
    part = swift("GET", "segs", "slo", query={"part-number": "2"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"b"
    assert part["Content-Range"] == "bytes 3-3/7" and part["X-Parts-Count"] == "3"
    assert swift("GET", "segs", "slo", query={"part-number": "0"}).status_code == 400
    assert swift("HEAD", "segs", "slo", query={"part-number": "9"}).status_code == 416


def test_slo_put_gets_412_when_if_none_match_and_exists(segments):
    swift = segments
    _slo(swift)
    assert _slo(swift, HTTP_IF_NONE_MATCH="*").status_code == 412
