"""Swift object requests through Django's test client: every verb, conditions, ranges, bad input."""

from __future__ import annotations

import hashlib
import io
import json
import time

import pytest
from django.utils.http import http_date

pytestmark = pytest.mark.django_db


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def box(swift):
    """A Swift client with an empty container `box`."""
    assert swift("PUT", "box").status_code == 201
    return swift


def test_object_put_then_get_returns_bytes_and_headers_when_uploaded(box):
    data = b"hello swift"
    response = box("PUT", "box", "greeting.txt", data=data, X_OBJECT_META_LANG="en")
    assert response.status_code == 201 and response["ETag"] == md5(data)
    got = box("GET", "box", "greeting.txt")
    assert got.status_code == 200 and body(got) == data
    assert got["Content-Type"] == "text/plain"  # guessed from the name
    assert got["Content-Length"] == str(len(data)) and got["X-Object-Meta-Lang"] == "en"
    assert got["Last-Modified"] and got["X-Timestamp"] and got["X-Trans-Id"]
    head = box("HEAD", "box", "greeting.txt")
    assert head.status_code == 200 and head.content == b"" and head["Content-Length"] == str(len(data))


def test_object_put_keeps_client_content_type_when_given(box):
    box("PUT", "box", "x.txt", data=b"{}", content_type="application/json")
    assert box("HEAD", "box", "x.txt")["Content-Type"] == "application/json"
    box("PUT", "box", "noext", data=b"?")
    assert box("HEAD", "box", "noext")["Content-Type"] == "application/octet-stream"


def test_object_put_answers_422_when_etag_mismatches(box):
    assert box("PUT", "box", "o", data=b"abc", HTTP_ETAG=md5(b"abd")).status_code == 422
    assert box("HEAD", "box", "o").status_code == 404
    assert box("PUT", "box", "o", data=b"abc", HTTP_ETAG=f'"{md5(b"abc")}"').status_code == 201


def test_object_put_answers_412_when_if_none_match_star_and_exists(box):
    assert box("PUT", "box", "o", data=b"1", HTTP_IF_NONE_MATCH="*").status_code == 201
    assert box("PUT", "box", "o", data=b"2", HTTP_IF_NONE_MATCH="*").status_code == 412
    assert box("PUT", "box", "o", data=b"2", HTTP_IF_NONE_MATCH="abc").status_code == 400
    assert body(box("GET", "box", "o")) == b"1"


def test_object_put_answers_404_when_container_missing(swift):
    assert swift("PUT", "nope", "o", data=b"x").status_code == 404


def test_object_put_reads_chunked_body_when_no_content_length(box):
    data = b"x" * 5000 + b"y" * 3000
    framed = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (data[:4096], data[4096:])) + b"0\r\n\r\n"
    extra = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(framed), "CONTENT_LENGTH": ""}
    assert box.request("PUT", box.url("box", "chunked"), **extra).status_code == 201
    assert body(box("GET", "box", "chunked")) == data
    decoded = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True}
    assert box.request("PUT", box.url("box", "plain"), **decoded).status_code == 201
    assert box("HEAD", "box", "plain")["ETag"] == md5(data)


def test_object_put_answers_411_or_499_when_length_missing_or_body_short(box):
    assert box.request("PUT", box.url("box", "o"), **{"wsgi.input": io.BytesIO(b"")}).status_code == 411
    short = {"CONTENT_LENGTH": "100", "wsgi.input": io.BytesIO(b"only ten!!")}
    assert box.request("PUT", box.url("box", "o"), **short).status_code == 499
    assert box.request("PUT", box.url("box", "o"), data=b"x", CONTENT_LENGTH="abc").status_code == 400
    assert box("HEAD", "box", "o").status_code == 404


def test_object_get_serves_ranges_when_range_header_sent(box):
    data = bytes(range(256)) * 40
    box("PUT", "box", "r", data=data)
    one = box("GET", "box", "r", HTTP_RANGE="bytes=10-19")
    assert one.status_code == 206 and body(one) == data[10:20]
    assert one["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert body(box("GET", "box", "r", HTTP_RANGE="bytes=-5")) == data[-5:]
    assert body(box("GET", "box", "r", HTTP_RANGE="bytes=10000-")) == data[10000:]
    many = box("GET", "box", "r", HTTP_RANGE="bytes=0-1,5-6")
    assert many.status_code == 206 and many["Content-Type"].startswith("multipart/byteranges")
    payload = body(many)
    assert len(payload) == int(many["Content-Length"])
    assert b"Content-Range: bytes 0-1/10240\r\n\r\n" + data[0:2] in payload
    assert b"Content-Range: bytes 5-6/10240\r\n\r\n" + data[5:7] in payload


@pytest.mark.parametrize("header", ["bytes=20000-", "bytes=10240-10300", "bytes=-0"])
def test_object_get_answers_416_when_range_unsatisfiable(box, header):
    box("PUT", "box", "r", data=b"z" * 10240)
    response = box("GET", "box", "r", HTTP_RANGE=header)
    assert response.status_code == 416 and response["Content-Range"] == "bytes */10240"


@pytest.mark.parametrize(
    "header", ["bytes=5-1", "pages=1-2", "bytes=abc", "bytes=1-2-3", "bytes=²-3", "bytes=" + "9" * 5000]
)
def test_object_get_ignores_range_when_malformed(box, header):
    box("PUT", "box", "r", data=b"0123456789")
    response = box("GET", "box", "r", HTTP_RANGE=header)
    assert response.status_code in (200, 416)
    if response.status_code == 200:
        assert body(response) == b"0123456789"


def test_object_get_honours_conditions_when_if_headers_sent(box):
    box("PUT", "box", "c", data=b"cond")
    etag = md5(b"cond")
    assert box("GET", "box", "c", HTTP_IF_MATCH=etag).status_code == 200
    assert box("GET", "box", "c", HTTP_IF_MATCH="other").status_code == 412
    assert box("HEAD", "box", "c", HTTP_IF_MATCH="other").status_code == 412
    not_modified = box("GET", "box", "c", HTTP_IF_NONE_MATCH=f'"{etag}"')
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    assert box("GET", "box", "c", HTTP_IF_NONE_MATCH="other").status_code == 200
    future, past = http_date(time.time() + 3600), http_date(time.time() - 3600)
    assert box("GET", "box", "c", HTTP_IF_MODIFIED_SINCE=future).status_code == 304
    assert box("GET", "box", "c", HTTP_IF_MODIFIED_SINCE=past).status_code == 200
    assert box("GET", "box", "c", HTTP_IF_UNMODIFIED_SINCE=past).status_code == 412
    assert box("GET", "box", "c", HTTP_IF_MODIFIED_SINCE="garbage").status_code == 200


def test_object_post_replaces_metadata_when_posted(box):
    box("PUT", "box", "m", data=b"x", X_OBJECT_META_A="1", X_OBJECT_META_B="2")
    response = box("POST", "box", "m", X_OBJECT_META_C="3")
    assert response.status_code == 202
    head = box("HEAD", "box", "m")
    assert head["X-Object-Meta-C"] == "3" and "X-Object-Meta-A" not in head
    assert box("POST", "box", "missing", X_OBJECT_META_C="3").status_code == 404


def test_object_metadata_roundtrips_utf8_when_value_not_ascii(box):
    value = "Ελληνικά"
    box("PUT", "box", "u", data=b"x", X_OBJECT_META_WORD=value.encode().decode("latin-1"))
    assert box("HEAD", "box", "u")["X-Object-Meta-Word"].encode("latin-1").decode() == value


def test_object_copy_shares_blocks_when_copied_by_verb_and_header(box, store):
    box("PUT", "box", "src", data=b"copy me", X_OBJECT_META_K="v")
    assert box("COPY", "box", "src", HTTP_DESTINATION="box/dst1", X_OBJECT_META_NEW="n").status_code == 201
    head = box("HEAD", "box", "dst1")
    assert head["X-Object-Meta-K"] == "v" and head["X-Object-Meta-New"] == "n"
    response = box("PUT", "box", "dst2", X_COPY_FROM="/box/src")
    assert response.status_code == 201 and response["X-Copied-From"] == "box/src"
    assert body(box("GET", "box", "dst2")) == b"copy me"
    assert len(list(store.iter_blocks())) == 1
    assert box("COPY", "box", "src").status_code == 412
    assert box("COPY", "box", "nosuch", HTTP_DESTINATION="box/x").status_code == 404
    assert box("PUT", "box", "d3", X_COPY_FROM="nocontainerslash").status_code == 412
    assert box("PUT", "box", "d3", data=b"body", X_COPY_FROM="box/src").status_code == 400


def test_object_delete_answers_204_then_404_when_deleted_twice(box):
    box("PUT", "box", "d", data=b"x")
    deleted = box("DELETE", "box", "d")
    assert deleted.status_code == 204
    assert deleted["Content-Type"] == "text/html; charset=UTF-8" and deleted["Content-Length"] == "0"
    assert box("DELETE", "box", "d").status_code == 404
    assert box("GET", "box", "d").status_code == 404


def test_object_expiry_clamped_when_delete_at_far_in_future(box):
    assert box("PUT", "box", "far", data=b"x", X_DELETE_AT="1" * 100).status_code == 201
    assert box("HEAD", "box", "far")["X-Delete-At"] == "9999999999"


def test_object_expires_when_delete_after_passes(box):
    box("PUT", "box", "e", data=b"x", X_DELETE_AT=str(int(time.time()) + 100))
    assert box("HEAD", "box", "e")["X-Delete-At"]
    box("PUT", "box", "gone", data=b"x", X_DELETE_AFTER="0")
    assert box("GET", "box", "gone").status_code == 404
    assert json.loads(box("GET", "box", query={"format": "json"}).content)[0]["name"] == "e"
    assert box("PUT", "box", "bad", data=b"x", X_DELETE_AT="12").status_code == 400
    assert box("PUT", "box", "bad", data=b"x", X_DELETE_AFTER="soon").status_code == 400


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/box/" + "n" * 1025, 400),
        ("/box/%00bad", 412),
        ("/box/%FF%FE", 201),
        ("/box/a//b", 201),
        ("/box//lead", 201),
        ("/box/sp%20ace%0Aline", 201),
    ],
)
def test_object_put_never_errors_500_when_names_odd(box, path, status):
    response = box.request("PUT", f"/v1/{box.account}{path}", data=b"x")
    assert response.status_code == status
    if status == 201:
        assert body(box.request("GET", f"/v1/{box.account}{path}")) == b"x"


def test_object_put_rejects_metadata_when_over_limits(box):
    assert box("PUT", "box", "o", data=b"x", X_OBJECT_META_V="v" * 257).status_code == 400
    assert box("PUT", "box", "o", data=b"x", **{"X_OBJECT_META_" + "K" * 129: "v"}).status_code == 400


def test_swift_answers_405_when_method_unknown(box):
    response = box("PATCH", "box")
    assert response.status_code == 405 and "PUT" in response["Allow"]
