"""Swift's answers at the protocol's edges: bad URLs, transfer codings, sizes, conditions, policies, metadata."""

from __future__ import annotations

import time

import pytest

from objectstore.limits import MAX_FILE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(swift):
    """Container `box` holding `doc` (0123456789)."""
    assert swift("PUT", "box").status_code == 201
    assert swift("PUT", "box", "doc", data=b"0123456789").status_code == 201
    return swift


def test_paths_answer_412_bad_url_when_not_an_account_path(swift, client):
    response = swift.request("PUT", "/v1")
    assert response.status_code == 412 and response.content == b"Bad URL"
    junk = client.get("/info asdf")
    assert junk.status_code == 412 and junk["X-Trans-Id"].startswith("tx")
    assert client.get("/info").status_code == 200


def test_paths_answer_412_when_raw_target_is_not_utf8(swift):
    def put(target: str):
        # gunicorn passes the request target as sent in RAW_URI; Django's test client does not
        return swift.client.generic("PUT", target, b"", RAW_URI=target, HTTP_X_AUTH_TOKEN=swift.token)

    response = put(f"/v1/{swift.account}/%ff%fe")
    assert response.status_code == 412 and response.content == b"Invalid UTF8 or contains NULL"
    assert put(f"/v1/{swift.account}/%C3%A9").status_code == 201


def test_unauthorized_names_swift_realm_when_no_token(client):
    response = client.get('/v1/AUTH_nobody"x')
    assert response.status_code == 401
    assert 'Swift realm="AUTH_nobody%22x"' in response["WWW-Authenticate"]


def test_put_answers_501_or_400_when_transfer_coding_is_not_chunked(box):
    assert box("PUT", "box", "x", data=b"", HTTP_TRANSFER_ENCODING="gzip,chunked").status_code == 501
    assert box("PUT", "box", "x", data=b"", HTTP_TRANSFER_ENCODING="gzip").status_code == 400


def test_put_answers_413_before_reading_when_length_over_max_file_size(box):
    response = box("PUT", "box", "huge", CONTENT_LENGTH=str(MAX_FILE_SIZE + 1))
    assert response.status_code == 413 and response.content == b"Your request is too large."


def test_delete_checks_x_if_delete_at_when_given(box):
    at = int(time.time()) + 3600
    assert box("POST", "box", "doc", X_DELETE_AT=str(at)).status_code == 202
    assert box("DELETE", "box", "missing", X_IF_DELETE_AT="bad").status_code == 400
    assert box("DELETE", "box", "doc", X_IF_DELETE_AT=str(at + 1)).status_code == 412
    assert box("DELETE", "box", "doc", X_IF_DELETE_AT=str(at)).status_code == 204


def test_refused_conditions_and_ranges_carry_object_headers_when_answered(box):
    etag = box("HEAD", "box", "doc")["ETag"]
    refused = box("GET", "box", "doc", HTTP_IF_MATCH="bogus")
    assert refused.status_code == 412 and refused["ETag"] == etag
    unsatisfiable = box("GET", "box", "doc", HTTP_RANGE="bytes=50-60")
    assert unsatisfiable.status_code == 416
    assert unsatisfiable["ETag"] == etag and unsatisfiable["Accept-Ranges"] == "bytes"
    assert unsatisfiable["Content-Range"] == "bytes */10"
    past = "Thu, 01 Jan 1970 00:00:00 GMT"
    assert box("GET", "box", "doc", HTTP_IF_MATCH=etag, HTTP_IF_UNMODIFIED_SINCE=past).status_code == 412


@pytest.mark.parametrize("spec", ["BYTES=0-3", "bytes = 0-3", "bytes=0 - 3", "bytes = 0 - 3 "])
def test_range_allows_spaces_when_swift_does(box, spec):
    response = box("GET", "box", "doc", HTTP_RANGE=spec)
    assert response.status_code == 206 and b"".join(response.streaming_content) == b"0123"


def test_manifest_put_answers_400_when_if_none_match_is_not_star(box):
    manifest = b'[{"path": "/box/doc"}]'
    query = {"multipart-manifest": "put"}
    assert box("PUT", "box", "m", data=manifest, query=query, HTTP_IF_NONE_MATCH='"x"').status_code == 400
    assert box("PUT", "box", "m", data=manifest, query=query, HTTP_IF_NONE_MATCH="*").status_code == 201
    assert box("PUT", "box", "m", data=manifest, query=query, HTTP_IF_NONE_MATCH="*").status_code == 412


def test_container_put_answers_400_when_storage_policy_unknown(swift):
    assert swift("PUT", "a", X_STORAGE_POLICY="gold").status_code == 400
    assert swift("PUT", "a", X_STORAGE_POLICY="Default").status_code == 201


def test_container_name_too_long_answers_html_400_as_swift(swift):
    response = swift("PUT", "x" * 257)
    assert response.status_code == 400 and response["Content-Type"] == "text/html; charset=UTF-8"


@pytest.mark.parametrize("kind", ["Account", "Container"])
def test_metadata_post_answers_400_when_stored_total_would_exceed_limit(swift, kind):
    parts = ("box",) if kind == "Container" else ()
    if parts:
        assert swift("PUT", *parts).status_code == 201
    half = {f"X_{kind.upper()}_META_A{i}": "v" * 250 for i in range(9)}  # 9 * 252 bytes
    assert swift("POST", *parts, **half).status_code == 204
    more = {f"X_{kind.upper()}_META_B{i}": "v" * 250 for i in range(9)}  # fits alone, not on top
    assert swift("POST", *parts, **more).status_code == 400
    assert swift("POST", *parts, **{f"X_{kind.upper()}_META_A0": "short"}).status_code == 204


def test_metadata_limits_count_wire_bytes_when_value_is_not_utf8(box):
    raw = "\xe5\x98" * 100  # 200 bytes that are not UTF-8, as WSGI hands them over
    assert box("PUT", "box", "odd", data=b"x", X_OBJECT_META_ODD=raw).status_code == 201


def test_metadata_keeps_utf8_bytes_when_they_include_whitespace_like_bytes(box):
    value = "᠅ ʅ"  # U+1805 is e1 a0 85: 0x85 and 0xa0 are whitespace to str.strip() as latin-1
    wire = value.encode().decode("latin-1")
    assert box("PUT", "box", "u", data=b"x", X_OBJECT_META_U=wire).status_code == 201
    assert box("HEAD", "box", "u")["X-Object-Meta-U"] == wire


def test_container_last_modified_moves_when_container_put_or_posted_not_when_objects_change(swift):
    assert swift("PUT", "box").status_code == 201
    first = swift("HEAD", "box")["X-Put-Timestamp"]
    time.sleep(0.01)
    assert swift("POST", "box", X_CONTAINER_META_A="1").status_code == 204
    posted = swift("HEAD", "box")["X-Put-Timestamp"]
    assert posted > first
    assert swift("PUT", "box", "obj", data=b"x").status_code == 201
    assert swift("HEAD", "box")["X-Put-Timestamp"] == posted
    time.sleep(0.01)
    assert swift("PUT", "box").status_code == 202
    assert swift("HEAD", "box")["X-Put-Timestamp"] > posted


def test_unknown_method_answers_405_when_sent_to_an_object(box):
    assert box("LICK", "box", "doc").status_code == 405
