"""Quota: every write is charged to `objectstore.bytes` through the two-phase ledger."""

from __future__ import annotations

import io

import pytest

from identity.quota_models import Commission
from identity.services import quotas

pytestmark = pytest.mark.django_db


def usage(project) -> dict:
    return next(r for r in quotas.usage(project) if r["resource"] == "objectstore.bytes")


@pytest.fixture
def box(swift, swift_project):
    quotas.set_limit(swift_project, "objectstore.bytes", 100, actor=None)
    assert swift("PUT", "box").status_code == 201
    return swift


def test_put_answers_413_when_upload_exceeds_quota(box, swift_project):
    assert box("PUT", "box", "a", data=b"x" * 60).status_code == 201
    response = box("PUT", "box", "b", data=b"x" * 60)
    assert response.status_code == 413 and b"Upload exceeds quota." in response.content
    assert box("HEAD", "box", "b").status_code == 404


def test_chunked_put_answers_413_and_publishes_nothing_when_over_quota(box):
    framed = b"96\r\n" + b"y" * 150 + b"\r\n0\r\n\r\n"
    extra = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(framed), "CONTENT_LENGTH": ""}
    assert box.request("PUT", box.url("box", "big"), **extra).status_code == 413
    assert box("HEAD", "box", "big").status_code == 404


def test_commission_accepted_after_commit_and_released_when_deleted(
    box, swift_project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert box("PUT", "box", "a", data=b"x" * 40).status_code == 201
    assert usage(swift_project)["usage"] == 40 and usage(swift_project)["pending"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert box("PUT", "box", "a", data=b"x" * 50).status_code == 201
    assert usage(swift_project)["usage"] == 50  # an overwrite is charged gross, then the old size returns
    with django_capture_on_commit_callbacks(execute=True):
        assert box("DELETE", "box", "a").status_code == 204
    assert usage(swift_project)["usage"] == 0
    assert not Commission.objects.filter(state=Commission.State.PENDING).exists()


def test_commission_rejected_when_put_fails_after_charge(box, swift_project):
    assert box("PUT", "box", "a", data=b"1", HTTP_IF_NONE_MATCH="*").status_code == 201
    assert box("PUT", "box", "a", data=b"2" * 10, HTTP_IF_NONE_MATCH="*").status_code == 412
    assert Commission.objects.filter(state=Commission.State.REJECTED).count() == 0  # refused before any charge
    assert usage(swift_project)["pending"] == 1


def test_resolver_accepts_charge_only_when_its_version_exists(box):
    from objectstore.services import charges

    box("PUT", "box", "a", data=b"abc")
    commission = Commission.objects.get(client="objectstore")
    assert charges.resolve(commission) is True
    commission.client_key = "put:unknown"
    assert charges.resolve(commission) is False
