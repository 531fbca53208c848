"""Server-side copies: across accounts (each side authorized on its own), ranges, SLO parts and manifests."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client

from tests.factories import ProjectFactory, UserFactory, assign, make_token
from tests.objectstore.conftest import Swift

pytestmark = pytest.mark.django_db


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def source(swift):
    """The caller's container `src` holding `doc` (0123456789) with metadata."""
    assert swift("PUT", "src").status_code == 201
    assert swift("PUT", "src", "doc", data=b"0123456789", X_OBJECT_META_COLOUR="red").status_code == 201
    return swift


@pytest.fixture
def other(db):
    """Another project's member: `(client on their own account, project, user)`."""
    project = ProjectFactory()
    user = UserFactory()
    assign(user, project, "member", "reader")
    return Swift(Client(), make_token(user, project), f"AUTH_{project.pk}"), project, user


def _as(client: Swift, account: str) -> Swift:
    """The same token aimed at another account."""
    return Swift(client.client, client.token, account)


def test_copy_between_accounts_succeeds_when_destination_write_acl_names_caller(source, other, swift_user):
    theirs, _, _ = other
    assert theirs("PUT", "inbox", X_CONTAINER_WRITE=f"{source.account[5:]}:{swift_user.name}").status_code == 201
    copied = source("COPY", "src", "doc", DESTINATION="inbox/copy", DESTINATION_ACCOUNT=theirs.account)
    assert copied.status_code == 201 and copied["X-Copied-From-Account"] == source.account
    got = theirs("GET", "inbox", "copy")
    assert body(got) == b"0123456789" and got["X-Object-Meta-Colour"] == "red"
    pulled = _as(source, theirs.account)(
        "PUT", "inbox", "pulled", X_COPY_FROM="src/doc", X_COPY_FROM_ACCOUNT=source.account
    )
    assert pulled.status_code == 201 and body(theirs("GET", "inbox", "pulled")) == b"0123456789"


def test_copy_between_accounts_gets_403_when_destination_grants_nothing(source, other):
    theirs, _, _ = other
    assert theirs("PUT", "inbox").status_code == 201
    answer = source("COPY", "src", "doc", DESTINATION="inbox/copy", DESTINATION_ACCOUNT=theirs.account)
    assert answer.status_code == 403
    assert theirs("GET", "inbox", "copy").status_code == 404
    # a missing container of another account is 403 too (nothing to learn), of one's own account 404
    assert source("COPY", "src", "doc", DESTINATION="nowhere/x", DESTINATION_ACCOUNT=theirs.account).status_code == 403
    assert source("COPY", "src", "doc", DESTINATION="nowhere/x").status_code == 404


def test_copy_from_other_account_gets_403_when_source_not_readable(source, other):
    theirs, _, _ = other
    assert theirs("PUT", "private").status_code == 201
    assert theirs("PUT", "private", "secret", data=b"their-secret").status_code == 201
    for cname, oname in (("private", "secret"), ("private", "missing"), ("missing", "secret")):
        answer = source("PUT", "src", "stolen", X_COPY_FROM=f"{cname}/{oname}", X_COPY_FROM_ACCOUNT=theirs.account)
        assert answer.status_code == 403 and b"their-secret" not in answer.content
    # the source is checked before the destination: still 403 for a missing destination container
    answer = source("PUT", "nobox", "x", X_COPY_FROM="private/secret", X_COPY_FROM_ACCOUNT=theirs.account)
    assert answer.status_code == 403
    assert source("GET", "src", "stolen").status_code == 404
    # the COPY verb cannot pull another account's object either
    assert (
        _as(source, theirs.account)(
            "COPY", "private", "secret", DESTINATION="src/stolen", DESTINATION_ACCOUNT=source.account
        ).status_code
        == 403
    )


def test_copy_from_other_account_succeeds_when_read_acl_names_caller(source, other, swift_user):
    theirs, _, _ = other
    grant = f"{source.account[5:]}:{swift_user.name}"
    assert theirs("PUT", "public", X_CONTAINER_READ=grant).status_code == 201
    assert theirs("PUT", "public", "paper", data=b"readable").status_code == 201
    copied = source("PUT", "src", "mine", X_COPY_FROM="/public/paper", X_COPY_FROM_ACCOUNT=theirs.account)
    assert copied.status_code == 201 and body(source("GET", "src", "mine")) == b"readable"
    missing = source("PUT", "src", "x", X_COPY_FROM="public/none", X_COPY_FROM_ACCOUNT=theirs.account)
    assert missing.status_code == 404
    nobox = source("PUT", "nobox", "x", X_COPY_FROM="public/paper", X_COPY_FROM_ACCOUNT=theirs.account)
    assert nobox.status_code == 404


def test_copy_with_range_copies_only_those_bytes_when_range_given(source):
    assert source("COPY", "src", "doc", DESTINATION="src/part", HTTP_RANGE="bytes=2-4").status_code == 201
    got = source("GET", "src", "part")
    assert body(got) == b"234" and got["ETag"] == md5(b"234")
    assert source("PUT", "src", "tail", X_COPY_FROM="src/doc", HTTP_RANGE="bytes=-3").status_code == 201
    assert body(source("GET", "src", "tail")) == b"789"
    assert source("COPY", "src", "doc", DESTINATION="src/x", HTTP_RANGE="bytes=50-60").status_code == 416


@pytest.fixture
def slo(source):
    """`src/slo`: an SLO over segs/1 (aaa) and segs/2 (bbb)."""
    assert source("PUT", "segs").status_code == 201
    for i, data in enumerate((b"aaa", b"bbb"), 1):
        assert source("PUT", "segs", str(i), data=data).status_code == 201
    manifest = [{"path": "/segs/1"}, {"path": "/segs/2"}]
    put = source("PUT", "src", "slo", data=json.dumps(manifest).encode(), query={"multipart-manifest": "put"})
    assert put.status_code == 201
    return source


def test_copy_of_slo_part_copies_one_part_when_part_number_given(slo):
    assert slo("COPY", "src", "slo", DESTINATION="src/p2", query={"part-number": "2"}).status_code == 201
    assert body(slo("GET", "src", "p2")) == b"bbb"
    assert slo("PUT", "src", "p1", X_COPY_FROM="src/slo", query={"part-number": "1"}).status_code == 201
    assert body(slo("GET", "src", "p1")) == b"aaa"
    assert slo("COPY", "src", "slo", DESTINATION="src/p9", query={"part-number": "9"}).status_code == 416


def test_copy_of_slo_manifest_keeps_manifest_when_multipart_manifest_get(slo):
    source_doc = slo("GET", "src", "slo", query={"multipart-manifest": "get"})
    copied = slo("COPY", "src", "slo", DESTINATION="src/again", query={"multipart-manifest": "get"})
    assert copied.status_code == 201
    again = slo("GET", "src", "again", query={"multipart-manifest": "get"})
    assert again.content == source_doc.content and again["ETag"] == source_doc["ETag"]
    whole = slo("GET", "src", "again")
    assert body(whole) == b"aaabbb" and whole["ETag"] == slo("HEAD", "src", "slo")["ETag"]


def test_copy_of_slo_manifest_to_other_account_gets_400_when_segments_not_readable_there(slo, other, swift_user):
    theirs, _, _ = other
    assert theirs("PUT", "inbox", X_CONTAINER_WRITE=f"{slo.account[5:]}:{swift_user.name}").status_code == 201
    answer = slo(
        "COPY",
        "src",
        "slo",
        DESTINATION="inbox/m",
        DESTINATION_ACCOUNT=theirs.account,
        query={"multipart-manifest": "get"},
    )
    assert answer.status_code == 400 and answer.content.count(b"403 Forbidden") == 2
    assembled = slo("COPY", "src", "slo", DESTINATION="inbox/flat", DESTINATION_ACCOUNT=theirs.account)
    assert assembled.status_code == 201 and body(theirs("GET", "inbox", "flat")) == b"aaabbb"


def test_copy_by_sharee_gets_403_when_source_not_shared(source, other):
    """A write grant on one object never lets its sharee copy other objects of the account into it."""
    theirs, _, user = other
    assert source("PUT", "src", "note", data=b"note", X_OBJECT_SHARING=f"write={user.name}").status_code == 201
    sharee = _as(theirs, source.account)
    assert sharee("PUT", "src", "note", data=b"edited").status_code == 201
    answer = sharee("PUT", "src", "note", X_COPY_FROM="src/doc")
    assert answer.status_code == 403
    assert body(source("GET", "src", "note")) == b"edited"
