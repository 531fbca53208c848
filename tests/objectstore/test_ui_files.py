"""The dashboard file browser through Django's test client: every page and action, and who may use them."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.test import Client
from django.urls import reverse

from identity.models import Project, User
from identity.quota_registry import sync_resources
from objectstore.models import Container, GroupMember
from objectstore.services import containers, objects, public, uploads
from tests.factories import ProjectFactory, UserFactory, assign, default_domain

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def project(db) -> Project:
    default_domain()
    sync_resources()
    return ProjectFactory(name="files-project")


@pytest.fixture
def alice(project) -> User:
    user = UserFactory(name="alice")
    assign(user, project, "member", "reader")
    return user


@pytest.fixture
def client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def box(project, alice) -> Container:
    container, _ = containers.put_container(project, "docs", metadata={}, actor=alice)
    data = uploads.store_bytes(b"hello files", block_size=container.block_size)
    objects.put_object(container, "a/readme.txt", data, objects.ObjectAttrs(content_type="text/plain"), actor=alice)
    return container


def url(name: str, *args: str) -> str:
    return reverse(name, args=args)


def upload(client: Client, container: str, name: str, data: bytes, **extra: str):
    return client.generic(
        "POST",
        f"{url('files_upload', container)}?name={name}",
        data,
        content_type="application/octet-stream",
        **extra,
    )


def test_container_list_shows_containers_and_quota_when_logged_in(client, box):
    page = client.get(url("files"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "docs" in text and 'data-resource="objectstore.bytes"' in text and "Files</a>" in text


def test_container_create_and_delete_when_member(client, project):
    response = client.post(url("files_container_create"), {"name": "new-box"})
    assert response.status_code == 302 and Container.objects.filter(project=project, name="new-box").exists()
    assert client.post(url("files_container_create"), {"name": "a/b"}).status_code == 302
    assert not Container.objects.filter(name="a/b").exists()
    assert client.post(url("files_container_delete", "new-box")).status_code == 302
    assert not Container.objects.filter(name="new-box").exists()


def test_container_delete_refused_when_not_empty(client, box):
    client.post(url("files_container_delete", "docs"))
    assert Container.objects.filter(name="docs").exists()


def test_browse_shows_folders_files_and_breadcrumbs_when_prefix_given(client, box):
    top = client.get(url("files_browse", "docs")).content.decode()
    assert "&#128193; a/" in top and "readme.txt" not in top
    inner = client.get(url("files_browse", "docs"), {"prefix": "a/"}).content.decode()
    assert "readme.txt" in inner and 'id="breadcrumbs"' in inner and "upload-progress" in inner


def test_upload_streams_body_into_object_when_posted(client, box):
    data = b"z" * (5 * 1024 * 1024 + 17)
    response = upload(client, "docs", "a/big.bin", data, HTTP_X_OBJECT_CONTENT_TYPE="application/x-test")
    assert response.status_code == 201 and response.json()["etag"] == hashlib.md5(data).hexdigest()
    version = objects.get_version(box, "a/big.bin")
    assert version.size == len(data) and version.content_type == "application/x-test"


def test_upload_answers_json_errors_when_name_or_length_bad(client, box):
    assert upload(client, "docs", "", b"x").status_code == 400
    assert upload(client, "docs", "x" * 1100, b"x").status_code == 400
    no_length = client.generic(
        "POST",
        f"{url('files_upload', 'docs')}?name=n",
        content_type="application/octet-stream",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(b"")},
    )
    assert no_length.status_code == 411 and "error" in no_length.json()


def test_folder_create_makes_marker_object_when_posted(client, box):
    client.post(url("files_folder", "docs"), {"prefix": "a/", "name": "sub"})
    assert objects.get_version(box, "a/sub/").content_type == "application/directory"
    assert client.post(url("files_folder", "docs"), {"prefix": "", "name": "x/y"}).status_code == 302
    page = client.get(url("files_browse", "docs"), {"prefix": "a/sub/"})
    assert "This folder is empty" in page.content.decode()


def test_download_streams_bytes_as_attachment(client, box):
    response = client.get(url("files_download", "docs"), {"name": "a/readme.txt"})
    assert response.status_code == 200 and body(response) == b"hello files"
    assert "readme.txt" in response["Content-Disposition"]
    assert client.get(url("files_download", "docs"), {"name": "nope"}).status_code == 404
    assert client.get(url("files_download", "docs"), {"name": "a/readme.txt", "version": "x"}).status_code == 404


def test_download_answers_503_when_file_block_failed_integrity_check(client, box):
    from objectstore.blocks import block_store

    version = objects.get_version(box, "a/readme.txt")
    store = block_store()
    store.path(version.hashmap[0]).write_bytes(b"hello filez")
    assert store.scrub(version.hashmap[0]).outcome == "corrupt"
    response = client.get(url("files_download", "docs"), {"name": "a/readme.txt"})
    assert response.status_code == 503 and b"integrity check" in response.content


def test_object_delete_removes_file_when_posted(client, box):
    assert client.post(url("files_object_delete", "docs"), {"name": "a/readme.txt"}).status_code == 302
    assert client.get(url("files_download", "docs"), {"name": "a/readme.txt"}).status_code == 404


def test_object_page_shares_with_users_and_groups(client, box, project):
    bob = UserFactory(name="bob")
    GroupMember.objects.create(project=project, group="team", user=bob)
    page = client.get(url("files_object", "docs"), {"name": "a/readme.txt"})
    assert page.status_code == 200 and "Share with users and groups" in page.content.decode()
    assert 'name="read" value=' not in page.content.decode()  # nothing shared: empty fields
    client.post(url("files_share", "docs"), {"name": "a/readme.txt", "read": "bob, group:team", "write": ""})
    page = client.get(url("files_object", "docs"), {"name": "a/readme.txt"}).content.decode()
    assert 'value="bob,group:team"' in page
    response = client.post(url("files_share", "docs"), {"name": "a/readme.txt", "read": "ghost"}, follow=True)
    assert "Unknown user" in response.content.decode()


def test_make_public_returns_panel_with_link_when_htmx(client, box):
    response = client.post(
        url("files_public", "docs"), {"name": "a/readme.txt", "public": "true"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "/public/" in response.content.decode()
    token = public.token_of(box, "a/readme.txt")
    assert body(Client().get(f"/public/{token}")) == b"hello files"
    client.post(url("files_public", "docs"), {"name": "a/readme.txt", "public": "false"})
    assert public.token_of(box, "a/readme.txt") is None


def test_versions_listed_and_restored_when_policy_auto(client, box, alice):
    client.post(url("files_versioning", "docs"), {"policy": "auto"})
    box.refresh_from_db()
    assert box.versioning == "auto"
    old = objects.get_version(box, "a/readme.txt")
    upload(client, "docs", "a/readme.txt", b"second")
    page = client.get(url("files_object", "docs"), {"name": "a/readme.txt"}).content.decode()
    assert "Restore" in page and str(old.pk) in page
    client.post(url("files_restore", "docs"), {"name": "a/readme.txt", "version": str(old.pk)})
    assert body(client.get(url("files_download", "docs"), {"name": "a/readme.txt"})) == b"hello files"
    client.post(url("files_versioning", "docs"), {"policy": "bogus"})


def test_pages_answer_404_when_container_belongs_to_another_project(box):
    bob = UserFactory(name="bob")
    assign(bob, ProjectFactory(name="bob-project"), "member", "reader")
    other = Client()
    other.force_login(bob)
    for name in ("files_browse", "files_object", "files_download"):
        assert other.get(url(name, "docs"), {"name": "a/readme.txt"}).status_code == 404
    for name in ("files_upload", "files_object_delete", "files_share", "files_public", "files_restore"):
        assert other.post(url(name, "docs"), {"name": "a/readme.txt"}).status_code == 404
    assert other.post(url("files_container_delete", "docs")).status_code == 404
    assert Container.objects.filter(name="docs").exists()


def test_actions_answer_403_when_user_is_reader_only(box, project):
    reader = UserFactory(name="reader")
    assign(reader, project, "reader")
    client = Client()
    client.force_login(reader)
    assert client.get(url("files_browse", "docs")).status_code == 200
    assert upload(client, "docs", "x", b"x").status_code == 403
    assert client.post(url("files_object_delete", "docs"), {"name": "a/readme.txt"}).status_code == 403
    assert client.post(url("files_container_create"), {"name": "z"}).status_code == 403


def test_pages_redirect_to_login_when_anonymous(box):
    assert Client().get(url("files")).status_code == 302
    assert Client().post(url("files_upload", "docs")).status_code == 302


def test_pages_answer_404_when_user_has_no_project(db):
    default_domain()
    lonely = UserFactory(name="lonely")
    client = Client()
    client.force_login(lonely)
    assert client.get(url("files")).status_code == 404
