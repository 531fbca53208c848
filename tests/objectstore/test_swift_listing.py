"""Listings as Swift writes them: XML layout, storage policy, odd limits and markers, `path`, SLO entries."""

from __future__ import annotations

import hashlib
import json
from xml.dom import minidom

import pytest
from django.test import Client

from tests.factories import UserFactory, assign, make_token
from tests.objectstore.conftest import Swift

pytestmark = pytest.mark.django_db


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def names(response) -> list[str]:
    if response.status_code == 204:
        return []
    return [e.get("name", e.get("subdir")) for e in json.loads(response.content)]


@pytest.fixture
def tree(swift):
    """Container `c` with a small directory tree, `dir/` markers included."""
    assert swift("PUT", "c").status_code == 201
    for name in ("file1", "dir1/", "dir1/a", "dir1/sub/", "dir1/sub/b", "dir1/sub/deep/c", "dir2/", "/top"):
        assert swift("PUT", "c", name, data=b"x").status_code == 201
    return swift


def test_container_xml_listing_has_no_whitespace_nodes_when_read_with_minidom(tree):
    response = tree("GET", "c", query={"format": "xml", "delimiter": "/"})
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    root = minidom.parseString(response.content).getElementsByTagName("container")[0]
    assert all(node.nodeType == node.ELEMENT_NODE for node in root.childNodes)
    assert [node.tagName for node in root.childNodes][:2] == ["subdir", "subdir"]
    assert root.childNodes[0].getElementsByTagName("name")[0].firstChild.nodeValue == "/"


def test_account_listing_names_storage_policy_when_json_or_xml(tree):
    entry = json.loads(tree("GET", query={"format": "json"}).content)[0]
    assert entry["storage_policy"] == "default" and set(entry) >= {"name", "count", "bytes", "last_modified"}
    doc = minidom.parseString(tree("GET", query={"format": "xml"}).content)
    container = doc.getElementsByTagName("container")[0]
    assert container.getElementsByTagName("storage_policy")[0].firstChild.nodeValue == "default"


def test_listing_limit_is_ignored_when_not_a_whole_number(tree):
    assert len(names(tree("GET", "c", query={"format": "json", "limit": "5000.0"}))) == 8
    assert len(names(tree("GET", "c", query={"format": "json", "limit": "2"}))) == 2
    assert tree("GET", "c", query={"limit": "10001"}).status_code == 412


def test_listing_markers_holding_nul_bound_just_after_the_name_when_given(tree):
    after = names(tree("GET", "c", query={"format": "json", "marker": "dir1/a\x00"}))
    assert after[0] == "dir1/sub/"
    reverse = names(tree("GET", "c", query={"format": "json", "reverse": "on", "marker": "dir1/a\x00"}))
    assert reverse[:2] == ["dir1/a", "dir1/"]
    upto = names(tree("GET", "c", query={"format": "json", "end_marker": "dir1/\x00"}))
    assert upto == ["/top", "dir1/"]
    assert tree("GET", "c", query={"prefix": "dir\x00"}).status_code == 204


def test_listing_path_lists_direct_children_when_path_given(tree):
    assert names(tree("GET", "c", query={"format": "json", "path": ""})) == ["dir1/", "dir2/", "file1"]
    assert names(tree("GET", "c", query={"format": "json", "path": "dir1"})) == ["dir1/a", "dir1/sub/"]
    assert names(tree("GET", "c", query={"format": "json", "path": "dir1/sub/"})) == ["dir1/sub/b"]
    assert names(tree("GET", "c", query={"format": "json", "path": "/"})) == ["/top"]
    reverse = names(tree("GET", "c", query={"format": "json", "path": "dir1", "reverse": "1"}))
    assert reverse == ["dir1/sub/", "dir1/a"]


def test_slo_listing_entry_reports_assembled_size_and_etags_when_listed(swift):
    assert swift("PUT", "segs").status_code == 201
    for name, data in (("1", b"aaa"), ("2", b"bbbb")):
        assert swift("PUT", "segs", name, data=data).status_code == 201
    manifest = json.dumps([{"path": "/segs/1"}, {"path": "/segs/2"}]).encode()
    assert swift("PUT", "segs", "slo", data=manifest, query={"multipart-manifest": "put"}).status_code == 201
    document = swift("GET", "segs", "slo", query={"multipart-manifest": "get"})
    listed = {e["name"]: e for e in json.loads(swift("GET", "segs", query={"format": "json"}).content)}
    slo = listed["slo"]
    assert slo["bytes"] == 7 and slo["hash"] == md5(document.content) == document["ETag"]
    assert slo["slo_etag"] == swift("HEAD", "segs", "slo")["ETag"] == f'"{md5((md5(b"aaa") + md5(b"bbbb")).encode())}"'
    assert set(listed["1"]) == {"name", "hash", "bytes", "content_type", "last_modified"}


def test_slo_raw_manifest_answers_in_put_format_with_own_type_when_format_raw(swift):
    assert swift("PUT", "segs").status_code == 201
    assert swift("PUT", "segs", "1", data=b"aaa").status_code == 201
    manifest = json.dumps([{"path": "/segs/1"}]).encode()
    put = swift("PUT", "segs", "slo", data=manifest, query={"multipart-manifest": "put"}, content_type="x/y")
    assert put.status_code == 201
    raw = swift("GET", "segs", "slo", query={"multipart-manifest": "get", "format": "raw"})
    assert raw["Content-Type"] == "x/y" and raw["ETag"] == md5(raw.content)
    assert json.loads(raw.content) == [{"path": "/segs/1", "etag": md5(b"aaa"), "size_bytes": 3}]


def test_segment_container_without_read_acl_gives_409_for_slo_and_403_for_dlo(swift, swift_project):
    assert swift("PUT", "segs").status_code == 201
    assert swift("PUT", "segs", "1", data=b"aaa").status_code == 201
    assert swift("PUT", "pub", X_CONTAINER_READ=".r:*").status_code == 201
    manifest = json.dumps([{"path": "/segs/1"}]).encode()
    assert swift("PUT", "pub", "slo", data=manifest, query={"multipart-manifest": "put"}).status_code == 201
    assert swift("PUT", "pub", "dlo", X_OBJECT_MANIFEST="segs/", CONTENT_LENGTH="0").status_code == 201
    guest = UserFactory()
    assign(guest, swift_project, "guest")
    other = Swift(Client(), make_token(guest, swift_project, ("guest",)), swift.account)
    assert other("GET", "pub", "slo").status_code == 409
    assert other("GET", "pub", "dlo").status_code == 403
    assert swift("POST", "segs", X_CONTAINER_READ=".r:*").status_code == 204
    assert b"".join(other("GET", "pub", "slo").streaming_content) == b"aaa"
