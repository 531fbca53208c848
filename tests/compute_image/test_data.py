"""Image data: streaming upload and download through the owner's object store, hashes, quota, ranges."""

from __future__ import annotations

import hashlib
import io

import psutil
import pytest
from django.test import Client

from compute.image.models import Image
from identity.services import quotas
from tests.factories import make_token

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def usage(project) -> int:
    return next(r for r in quotas.usage(project) if r["resource"] == "objectstore.bytes")["usage"]


def swift_get(token: str, project, name: str):
    return Client().get(f"/v1/AUTH_{project.pk}/images/{name}", HTTP_X_AUTH_TOKEN=token)


class SpyStream:
    """A request body of `size` pseudo-random bytes made on demand, recording the largest read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.sha512()
        self.block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB pattern

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.largest = max(self.largest, n)
        out = (self.block * (n // len(self.block) + 1))[:n]
        self.left -= n
        self.md5.update(out)
        self.sha.update(out)
        return out

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit)


def test_upload_and_download_roundtrip_with_checksums_when_owner(glance, django_capture_on_commit_callbacks):
    payload = bytes(range(256)) * 4099
    image = glance.create(name="roundtrip")
    with django_capture_on_commit_callbacks(execute=True):
        assert glance.upload(image["id"], payload).status_code == 204
    shown = glance.get(f"/images/{image['id']}").json()
    assert shown["status"] == "active" and shown["size"] == len(payload)
    assert shown["checksum"] == hashlib.md5(payload, usedforsecurity=False).hexdigest()
    assert shown["os_hash_algo"] == "sha512" and shown["os_hash_value"] == hashlib.sha512(payload).hexdigest()
    response = glance.get(f"/images/{image['id']}/file")
    assert response.status_code == 200 and b"".join(response.streaming_content) == payload
    assert response["Content-MD5"] == shown["checksum"] and int(response["Content-Length"]) == len(payload)


def test_data_is_an_object_in_owner_store_and_charged_when_uploaded(
    glance, project, member, django_capture_on_commit_callbacks
):
    payload = b"plankton" * 1000
    image = glance.create(name="visible")
    with django_capture_on_commit_callbacks(execute=True):
        glance.upload(image["id"], payload)
    response = swift_get(make_token(member, project), project, image["id"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == payload
    assert response["X-Object-Meta-Image-Id"] == image["id"]
    assert usage(project) == len(payload)


def test_delete_removes_object_and_returns_quota_when_image_deleted(
    glance, project, member, django_capture_on_commit_callbacks
):
    image = glance.create()
    with django_capture_on_commit_callbacks(execute=True):
        glance.upload(image["id"], b"x" * 5000)
    with django_capture_on_commit_callbacks(execute=True):
        assert glance.delete(f"/images/{image['id']}").status_code == 204
    assert swift_get(make_token(member, project), project, image["id"]).status_code == 404
    assert usage(project) == 0


def test_upload_answers_413_and_stays_queued_when_over_quota(glance, project):
    quotas.set_limit(project, "objectstore.bytes", 1000, actor=None)
    image = glance.create()
    response = glance.upload(image["id"], b"y" * 1001)
    assert response.status_code == 413
    assert "quota" in response.json()["message"]
    assert Image.objects.get(pk=image["id"]).status == "queued"
    assert glance.upload(image["id"], b"y" * 999).status_code == 204


def test_chunked_upload_answers_413_after_storing_when_over_quota(glance, project):
    quotas.set_limit(project, "objectstore.bytes", 100, actor=None)
    image = glance.create()
    framed = b"96\r\n" + b"z" * 150 + b"\r\n0\r\n\r\n"
    response = glance.client.put(
        f"/image/v2/images/{image['id']}/file",
        content_type="application/octet-stream",
        HTTP_X_AUTH_TOKEN=glance.token,
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(framed)},
    )
    assert response.status_code == 413
    assert Image.objects.get(pk=image["id"]).status == "queued"


def test_chunked_upload_stores_decoded_body_when_transfer_encoding_chunked(glance):
    image = glance.create()
    framed = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    response = glance.client.put(
        f"/image/v2/images/{image['id']}/file",
        content_type="application/octet-stream",
        HTTP_X_AUTH_TOKEN=glance.token,
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(framed)},
    )
    assert response.status_code == 204
    assert b"".join(glance.get(f"/images/{image['id']}/file").streaming_content) == b"hello world"


def test_upload_reads_request_in_bounded_chunks_when_large(glance):
    size = 9 * MiB
    spy = SpyStream(size)
    image = glance.create()
    response = glance.client.put(
        f"/image/v2/images/{image['id']}/file",
        content_type="application/octet-stream",
        HTTP_X_AUTH_TOKEN=glance.token,
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": spy},
    )
    assert response.status_code == 204
    assert 0 < spy.largest <= MiB
    shown = glance.get(f"/images/{image['id']}").json()
    assert shown["checksum"] == spy.md5.hexdigest() and shown["os_hash_value"] == spy.sha.hexdigest()


def test_upload_keeps_memory_flat_when_64_mib_streamed(glance):
    size = 64 * MiB
    image = glance.create()
    process = psutil.Process()
    before = process.memory_info().rss
    response = glance.client.put(
        f"/image/v2/images/{image['id']}/file",
        content_type="application/octet-stream",
        HTTP_X_AUTH_TOKEN=glance.token,
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": SpyStream(size)},
    )
    grown = process.memory_info().rss - before
    assert response.status_code == 204
    assert grown < 32 * MiB, f"RSS grew by {grown / MiB:.1f} MiB"


def test_download_answers_204_when_image_has_no_data(glance):
    image = glance.create()
    response = glance.get(f"/images/{image['id']}/file")
    assert response.status_code == 204 and response.content == b""


def test_upload_answers_409_when_image_already_active(glance):
    image = glance.create_active()
    assert glance.upload(image["id"], b"again").status_code == 409


def test_upload_answers_400_when_formats_unset(glance):
    response = glance.post("/images", {"name": "noformat"})
    assert glance.upload(response.json()["id"], b"data").status_code == 400


def test_upload_answers_415_when_content_type_is_json(glance):
    image = glance.create()
    assert glance.upload(image["id"], b"{}", content_type="application/json").status_code == 415


def test_upload_answers_403_when_reader_only(glance, reader):
    image = glance.create()
    assert reader.upload(image["id"], b"data").status_code == 403


def test_upload_answers_403_when_public_image_of_another_project(admin, glance):
    image = admin.create(visibility="public")
    assert glance.upload(image["id"], b"data").status_code == 403


@pytest.mark.parametrize(
    ("header", "status", "body"),
    [("bytes=2-5", 206, b"2345"), ("bytes=7-", 206, b"789"), ("bytes=-3", 206, b"789"), ("bytes=5-100", 206, b"56789")],
)
def test_download_serves_range_when_asked(glance, header, status, body):
    image = glance.create_active(b"0123456789")
    response = glance.get(f"/images/{image['id']}/file", Range=header)
    assert response.status_code == status and b"".join(response.streaming_content) == body
    assert response["Content-Range"].endswith("/10")


def test_download_answers_416_when_range_outside(glance):
    image = glance.create_active(b"0123456789")
    assert glance.get(f"/images/{image['id']}/file", Range="bytes=20-30").status_code == 416


def test_deactivated_image_data_is_forbidden_when_not_admin(glance, admin):
    image = glance.create_active(b"secret")
    assert glance.post(f"/images/{image['id']}/actions/deactivate").status_code == 204
    assert glance.get(f"/images/{image['id']}").json()["status"] == "deactivated"
    assert glance.get(f"/images/{image['id']}/file").status_code == 403
    assert glance.post(f"/images/{image['id']}/actions/reactivate").status_code == 204
    assert b"".join(glance.get(f"/images/{image['id']}/file").streaming_content) == b"secret"


def test_deactivate_answers_403_when_image_queued(glance):
    image = glance.create()
    assert glance.post(f"/images/{image['id']}/actions/deactivate").status_code == 403


def test_download_answers_204_when_object_replaced_in_store(glance, project, member):
    image = glance.create_active(b"original")
    swift = Client()
    url = f"/v1/AUTH_{project.pk}/images/{image['id']}"
    assert (
        swift.put(url, b"tampered", content_type="", HTTP_X_AUTH_TOKEN=make_token(member, project)).status_code == 201
    )
    assert glance.get(f"/images/{image['id']}/file").status_code == 204


def test_delete_keeps_replaced_object_when_owner_overwrote_it(glance, project, member):
    image = glance.create_active(b"original")
    token = make_token(member, project)
    url = f"/v1/AUTH_{project.pk}/images/{image['id']}"
    Client().put(url, b"now mine", content_type="", HTTP_X_AUTH_TOKEN=token)
    assert glance.delete(f"/images/{image['id']}").status_code == 204
    assert b"".join(Client().get(url, HTTP_X_AUTH_TOKEN=token).streaming_content) == b"now mine"


def test_public_image_data_downloads_when_other_project(admin, other):
    image = admin.create_active(b"public bytes", visibility="public")
    assert b"".join(other.get(f"/images/{image['id']}/file").streaming_content) == b"public bytes"


def test_zero_byte_upload_makes_active_empty_image_when_body_empty(glance):
    image = glance.create()
    url = f"/image/v2/images/{image['id']}/file"
    response = glance.client.put(
        url, b"", content_type="application/octet-stream", CONTENT_LENGTH="0", HTTP_X_AUTH_TOKEN=glance.token
    )
    assert response.status_code == 204
    image = glance.get(f"/images/{image['id']}").json()
    assert image["status"] == "active" and image["size"] == 0
    response = glance.get(f"/images/{image['id']}/file")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b""


def test_upload_answers_409_when_another_upload_is_saving(glance):
    image = glance.create()
    Image.objects.filter(pk=image["id"]).update(status="saving")
    assert glance.upload(image["id"], b"second").status_code == 409


def test_upload_goes_back_to_queued_when_client_disconnects(glance):
    image = glance.create()
    response = glance.client.put(
        f"/image/v2/images/{image['id']}/file",
        content_type="application/octet-stream",
        HTTP_X_AUTH_TOKEN=glance.token,
        CONTENT_LENGTH="100",
        **{"wsgi.input": io.BytesIO(b"only ten b")},
    )
    assert response.status_code == 499
    assert Image.objects.get(pk=image["id"]).status == "queued"


class DeletingStream(SpyStream):
    """A body whose image is deleted by someone else while it is being uploaded."""

    def __init__(self, size: int, image_id: str) -> None:
        super().__init__(size)
        self.image_id = image_id

    def read(self, n: int = -1) -> bytes:
        Image.objects.filter(pk=self.image_id).delete()
        return super().read(n)


def test_upload_answers_410_and_drops_data_when_image_deleted_meanwhile(
    glance, project, member, django_capture_on_commit_callbacks
):
    image = glance.create()
    with django_capture_on_commit_callbacks(execute=True):
        response = glance.client.put(
            f"/image/v2/images/{image['id']}/file",
            content_type="application/octet-stream",
            HTTP_X_AUTH_TOKEN=glance.token,
            CONTENT_LENGTH="2048",
            **{"wsgi.input": DeletingStream(2048, image["id"])},
        )
    assert response.status_code == 410
    assert swift_get(make_token(member, project), project, image["id"]).status_code == 404
    assert usage(project) == 0


def test_upload_and_delete_are_audited_when_owner_acts(glance, member):
    from portal.models import AuditEvent

    image = glance.create_active(b"audited")
    glance.delete(f"/images/{image['id']}")
    actions = list(AuditEvent.objects.filter(target_id=image["id"]).values_list("action", "actor_id"))
    assert {a for a, _ in actions} >= {"image.create", "image.upload", "image.delete"}
    assert {actor for _, actor in actions} == {member.pk}
