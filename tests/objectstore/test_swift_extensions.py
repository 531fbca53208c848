"""Bulk delete, temp URLs, container/account quotas, CORS and the /info advertisement."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from tests.objectstore.conftest import Swift

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(swift):
    """Container `box` with `a` and `b`."""
    assert swift("PUT", "box").status_code == 201
    for name in ("a", "b"):
        assert swift("PUT", "box", name, data=b"data-" + name.encode()).status_code == 201
    return swift


def test_bulk_delete_reports_counts_when_paths_listed(box):
    body = b"/box/a\n/box/missing\n/box\n"
    response = box.request(
        "POST", box.url(), body, {"bulk-delete": ""}, HTTP_ACCEPT="application/json", content_type="text/plain"
    )
    result = json.loads(response.content)
    assert response.status_code == 200
    assert (result["Number Deleted"], result["Number Not Found"]) == (1, 1)
    assert result["Errors"] == [["/box", "409 Conflict"]] and result["Response Status"] == "400 Bad Request"
    plain = box.request("POST", box.url(), b"/box/b\n/box\n", {"bulk-delete": ""}, content_type="text/plain")
    assert b"Number Deleted: 2" in plain.content


def _sig(key: str, method: str, expires: int, path: str, digest=hashlib.sha256) -> str:
    return hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(), digest).hexdigest()


def test_tempurl_allows_get_without_token_when_signature_valid(box):
    assert box("POST", X_ACCOUNT_META_TEMP_URL_KEY="k1").status_code == 204
    path = box.url("box", "a")
    expires = int(time.time()) + 60
    anon = Swift(Client(), "", box.account)
    ok = anon.request(
        "GET", path, query={"temp_url_sig": _sig("k1", "GET", expires, path), "temp_url_expires": expires}
    )
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"data-a"
    assert ok["Content-Disposition"].startswith('attachment; filename="a"')
    sha1 = _sig("k1", "GET", expires, path, hashlib.sha1)
    head = anon.request("HEAD", path, query={"temp_url_sig": sha1, "temp_url_expires": expires, "inline": ""})
    assert head.status_code == 200 and head["Content-Disposition"] == "inline"
    bad = anon.request("GET", path, query={"temp_url_sig": "0" * 64, "temp_url_expires": expires})
    assert bad.status_code == 401
    old = int(time.time()) - 1
    expired = anon.request("GET", path, query={"temp_url_sig": _sig("k1", "GET", old, path), "temp_url_expires": old})
    assert expired.status_code == 401
    put = anon.request(
        "PUT", path, b"new", {"temp_url_sig": _sig("k1", "GET", expires, path), "temp_url_expires": expires}
    )
    assert put.status_code == 401
    garbage = anon.request("GET", path, query={"temp_url_sig": "sha512:!!!", "temp_url_expires": "soon"})
    assert garbage.status_code == 401


def test_tempurl_allows_put_when_container_key_signs_put(box):
    assert box("POST", "box", X_CONTAINER_META_TEMP_URL_KEY="ck").status_code == 204
    path = box.url("box", "c")
    expires = int(time.time()) + 60
    anon = Swift(Client(), "", box.account)
    query = {"temp_url_sig": _sig("ck", "PUT", expires, path, hashlib.sha512), "temp_url_expires": expires}
    assert anon.request("PUT", path, b"via-tempurl", query).status_code == 201
    assert b"".join(box("GET", "box", "c").streaming_content) == b"via-tempurl"


def test_container_quota_gets_413_when_bytes_or_count_exceeded(box):
    assert box("POST", "box", X_CONTAINER_META_QUOTA_BYTES="15").status_code == 204
    assert box("PUT", "box", "big", data=b"x" * 10).status_code == 413
    assert box("POST", "box", X_CONTAINER_META_QUOTA_BYTES="", X_CONTAINER_META_QUOTA_COUNT="2").status_code == 204
    assert box("PUT", "box", "third", data=b"x").status_code == 413
    assert box("POST", "box", X_CONTAINER_META_QUOTA_COUNT="many").status_code == 400


def test_account_quota_settable_only_by_admin_when_posted(box, swift_for, swift_user, swift_project):
    assert box("POST", X_ACCOUNT_META_QUOTA_BYTES="5").status_code == 403
    admin = swift_for(swift_user, swift_project, roles=("admin", "member"))
    assert admin("POST", X_ACCOUNT_META_QUOTA_BYTES="14").status_code == 204
    assert box("PUT", "box", "more", data=b"xyz").status_code == 413
    assert admin("POST", X_ACCOUNT_META_QUOTA_BYTES="nope").status_code == 400


def test_cors_preflight_allowed_when_origin_listed(box):
    anon = Swift(Client(), "", box.account)
    headers = {"HTTP_ORIGIN": "http://app.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}
    assert anon("OPTIONS", "box", "a", **headers).status_code == 401
    assert box("POST", "box", X_CONTAINER_META_ACCESS_CONTROL_ALLOW_ORIGIN="http://app.example").status_code == 204
    response = anon("OPTIONS", "box", "a", **headers)
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "http://app.example"
    actual = box("GET", "box", "a", HTTP_ORIGIN="http://app.example")
    assert actual["Access-Control-Allow-Origin"] == "http://app.example"
    assert "etag" in actual["Access-Control-Expose-Headers"]


def test_info_advertises_extensions_when_fetched(client):
    info = client.get("/info").json()
    assert {"slo", "bulk_delete", "tempurl", "container_quotas", "account_quotas"} <= set(info)
    assert info["tempurl"]["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert "staticweb" not in info and "versioned_writes" not in info


def test_info_advertises_pithos_extensions_when_fetched(client):
    pithos = client.get("/info").json()["pithos"]
    assert pithos["hashmap"] == {"block_hash": "sha256", "default_block_size": 4 * 1024 * 1024}
    assert pithos["versions"]["policies"] == ["auto", "none"] and pithos["move"] and pithos["public_links"]
    assert pithos["sharing"]["folders"] is False  # prefix sharing is not built


def test_tempurl_put_gets_400_when_manifest_points_elsewhere(box):
    assert box("POST", X_ACCOUNT_META_TEMP_URL_KEY="k1").status_code == 204
    path = box.url("box", "m")
    expires = int(time.time()) + 60
    anon = Swift(Client(), "", box.account)
    query = {"temp_url_sig": _sig("k1", "PUT", expires, path), "temp_url_expires": expires}
    assert anon.request("PUT", path, b"", query, HTTP_X_OBJECT_MANIFEST="other/p").status_code == 400
    assert anon.request("PUT", path, b"", query, HTTP_X_OBJECT_MANIFEST="box/p", CONTENT_LENGTH="0").status_code == 201


def test_cors_answers_star_when_container_allows_any_origin(box):
    anon = Swift(Client(), "", box.account)
    assert box("POST", "box", X_CONTAINER_META_ACCESS_CONTROL_ALLOW_ORIGIN="*").status_code == 204
    assert anon("OPTIONS", "box", "a", HTTP_ORIGIN="http://m.com").status_code == 401
    pre = anon("OPTIONS", "box", "a", HTTP_ORIGIN="http://m.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert pre["Access-Control-Allow-Origin"] == "*" and "Access-Control-Expose-Headers" not in pre
    assert anon("OPTIONS", "box", "a").status_code == 200


def test_swift_path_missing_parts_gets_404_when_empty_segment(client):
    assert client.get("/v1//c/o").status_code == 404
    assert client.get("/v1/AUTH_x//o").status_code == 404
