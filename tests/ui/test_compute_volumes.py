"""The volume pages: list (paging, polling only while a volume moves, constant query count), create
(blank, from an image, over quota), extend, delete with confirmation, attach/detach from the volume
page and from the server page's card, refusals as messages, foreign volumes as 404, readers 403."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compute.volume.models import Volume
from compute.volume.services.types import default_type
from compute.volume.services.volumes import VolumeSpec, create_volume
from identity.models import Project, User
from identity.services import quotas
from tests.factories import UserFactory, assign
from tests.ui.conftest import login

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db


def _volumes(project: Project, user: User, count: int, *, bulk: bool = False) -> list[Volume]:
    """`count` volumes of `project`: created through the service (quota charged), or rows inserted
    directly when `bulk` (listing speed does not depend on how volumes were made)."""
    vtype = default_type()
    if bulk:
        rows = [
            Volume(project=project, user_id=user.pk, size=1, status="available", volume_type=vtype)
            for _ in range(count)
        ]
        return Volume.objects.bulk_create(rows)
    return [create_volume(project, VolumeSpec(size=1, volume_type=vtype), actor=user) for _ in range(count)]


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_volume_list_shows_empty_state_and_no_polling_when_project_has_none(carol_client):
    response = carol_client.get("/cloud/volumes/")
    html = response.content.decode()
    assert response.status_code == 200 and "No volumes yet." in html and 'data-polling="false"' in html
    assert 'href="/cloud/volumes/"' in html  # the navbar entry


def test_volume_list_shows_only_current_project_volumes_when_others_exist(
    carol, carol_project, dave, dave_project, carol_client
):
    _volumes(carol_project, carol, 2)
    _volumes(dave_project, dave, 3)
    html = carol_client.get("/cloud/volumes/").content.decode()
    assert html.count('class="volume-row"') == 2 and 'data-status="available"' in html


def test_volume_list_polls_only_when_a_volume_is_transitional(carol, carol_project, carol_client):
    [volume] = _volumes(carol_project, carol, 1)
    assert 'data-polling="false"' in carol_client.get("/cloud/volumes/").content.decode()
    Volume.objects.filter(pk=volume.pk).update(status="attaching")
    html = carol_client.get("/cloud/volumes/").content.decode()
    assert 'data-polling="true"' in html and 'hx-trigger="every 3s"' in html
    partial = carol_client.get("/cloud/volumes/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="results"' in partial
    Volume.objects.filter(pk=volume.pk).update(status="in-use")
    assert "hx-trigger" not in carol_client.get("/cloud/volumes/", HTTP_HX_REQUEST="true").content.decode()


def test_volume_list_pages_by_fifty_when_project_has_more(carol, carol_project, carol_client):
    _volumes(carol_project, carol, 55, bulk=True)
    first = carol_client.get("/cloud/volumes/")
    assert first.content.decode().count('class="volume-row"') == 50
    second = carol_client.get(f"/cloud/volumes/?marker={first.context['next_marker']}").content.decode()
    assert second.count('class="volume-row"') == 5 and 'id="next-page"' not in second
    shown = {row.pk for row in first.context["volumes"]}
    assert len(shown) == 50 and Volume.objects.filter(project=carol_project).exclude(pk__in=shown).count() == 5


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/cloud/volumes/").status_code == 200
    return len(captured)


def test_volume_list_query_count_is_constant_when_volumes_grow(carol, carol_project, carol_client, boot, inline_jobs):
    server = boot("web")
    volumes = _volumes(carol_project, carol, 3)
    Volume.objects.filter(pk=volumes[0].pk).update(status="in-use", server=server, device="/dev/vdb")
    few = _list_queries(carol_client)
    more = _volumes(carol_project, carol, 30, bulk=True)
    Volume.objects.filter(pk__in=[v.pk for v in more[:10]]).update(status="in-use", server=server)
    many = _list_queries(carol_client)
    assert few == many, (few, many)
    assert "web" in carol_client.get("/cloud/volumes/").content.decode()


def test_volume_create_makes_volume_and_charges_quota_when_form_is_valid(carol_project, carol_client, send):
    response = send(
        carol_client.post, "/cloud/volumes/new/", {"name": "data", "size": 3, "volume_type": str(default_type().pk)}
    )
    volume = Volume.objects.get(project=carol_project, name="data")
    assert response.status_code == 302 and response["Location"] == f"/cloud/volumes/{volume.pk}/"
    assert (volume.size, volume.status, volume.volume_type.name, volume.bootable) == (3, "available", "file", False)
    usage = {row["resource"]: row["usage"] for row in quotas.usage(carol_project)}
    assert (usage["volume.volumes"], usage["volume.gib"]) == (1, 3)
    page = carol_client.get(f"/cloud/volumes/{volume.pk}/").content.decode()
    assert 'id="extend-form"' in page and 'id="delete-button"' in page


def test_volume_create_records_image_when_one_is_chosen(carol_project, carol_client, send, image):
    data = {"name": "boot", "size": 1, "volume_type": str(default_type().pk), "image": image}
    assert send(carol_client.post, "/cloud/volumes/new/", data).status_code == 302
    volume = Volume.objects.get(project=carol_project, name="boot")
    assert volume.bootable and volume.image_id == image


def test_volume_create_shows_refusal_when_over_quota(carol, carol_project, carol_client, send):
    quotas.set_limit(carol_project, "volume.gib", 2, actor=None)
    response = send(
        carol_client.post, "/cloud/volumes/new/", {"name": "big", "size": 5, "volume_type": str(default_type().pk)}
    )
    assert response.status_code == 403
    assert "quota" in response.content.decode() and not Volume.objects.filter(name="big").exists()


def test_volume_create_is_400_with_form_errors_when_input_is_bad(carol_client):
    response = carol_client.post("/cloud/volumes/new/", {"name": "x", "size": 0, "volume_type": "nope"})
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    assert not Volume.objects.exists()


def test_volume_extend_grows_volume_when_never_attached(carol, carol_project, carol_client, send):
    [volume] = _volumes(carol_project, carol, 1)
    response = send(carol_client.post, f"/cloud/volumes/{volume.pk}/extend/", {"new_size": 4}, follow=True)
    assert Volume.objects.get(pk=volume.pk).size == 4 and "now has 4 GiB" in _messages(response)
    smaller = send(carol_client.post, f"/cloud/volumes/{volume.pk}/extend/", {"new_size": 2}, follow=True)
    assert Volume.objects.get(pk=volume.pk).size == 4 and "greater than" in _messages(smaller)


def test_volume_delete_asks_confirmation_then_removes_volume(carol, carol_project, carol_client, send):
    [volume] = _volumes(carol_project, carol, 1)
    confirm = carol_client.get(f"/cloud/volumes/{volume.pk}/delete/")
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.content.decode()
    assert Volume.objects.filter(pk=volume.pk).exists()
    response = send(carol_client.post, f"/cloud/volumes/{volume.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/cloud/volumes/"
    assert not Volume.objects.filter(pk=volume.pk).exists()


def test_volume_attach_and_detach_from_volume_page_when_server_is_active(
    carol, carol_project, carol_client, send, boot, inline_jobs
):
    server = boot("web")
    [volume] = _volumes(carol_project, carol, 1)
    page = carol_client.get(f"/cloud/volumes/{volume.pk}/").content.decode()
    assert 'id="attach-form"' in page and str(server.pk) in page
    response = send(carol_client.post, "/cloud/volumes/attach/", {"volume": str(volume.pk), "server": str(server.pk)})
    assert response["Location"] == f"/cloud/volumes/{volume.pk}/"
    row = Volume.objects.get(pk=volume.pk)
    assert (row.status, row.server_id, row.device) == ("in-use", server.pk, "/dev/vdb")
    page = carol_client.get(f"/cloud/volumes/{volume.pk}/").content.decode()
    assert 'id="detach-button"' in page and 'id="delete-button"' not in page and 'id="attach-form"' not in page
    refused = send(carol_client.post, f"/cloud/volumes/{volume.pk}/delete/", follow=True)
    assert refused.status_code == 200 and "must be available" in _messages(refused)
    send(carol_client.post, f"/cloud/volumes/{volume.pk}/detach/")
    row = Volume.objects.get(pk=volume.pk)
    assert (row.status, row.server_id) == ("available", None)
    page = carol_client.get(f"/cloud/volumes/{volume.pk}/").content.decode()
    assert "cannot be extended" in page and 'id="extend-form"' not in page


def test_server_page_card_attaches_and_detaches_volumes_when_member(
    carol, carol_project, carol_client, send, boot, inline_jobs
):
    server = boot("web")
    [volume] = _volumes(carol_project, carol, 1)
    Volume.objects.filter(pk=volume.pk).update(name="data")
    detail = carol_client.get(f"/cloud/servers/{server.pk}/").content.decode()
    assert f'hx-get="/cloud/volumes/server/{server.pk}/"' in detail
    card = carol_client.get(f"/cloud/volumes/server/{server.pk}/").content.decode()
    assert "No volumes attached." in card and 'id="server-attach-form"' in card and "data (1 GiB)" in card
    back = f"/cloud/servers/{server.pk}/"
    response = send(
        carol_client.post, "/cloud/volumes/attach/", {"volume": str(volume.pk), "server": str(server.pk), "next": back}
    )
    assert response["Location"] == back
    card = carol_client.get(f"/cloud/volumes/server/{server.pk}/").content.decode()
    assert 'class="d-flex align-items-center gap-2 mb-1 server-volume"' in card and "/dev/vdb" in card
    assert 'data-polling="false"' in card
    response = send(carol_client.post, f"/cloud/volumes/{volume.pk}/detach/", {"next": back})
    assert response["Location"] == back and Volume.objects.get(pk=volume.pk).status == "available"


def test_server_page_card_polls_when_volume_is_attaching(carol, carol_project, carol_client, boot, inline_jobs):
    server = boot("web")
    [volume] = _volumes(carol_project, carol, 1)
    Volume.objects.filter(pk=volume.pk).update(status="attaching", server=server)
    card = carol_client.get(f"/cloud/volumes/server/{server.pk}/").content.decode()
    assert 'data-polling="true"' in card and "hx-trigger" in card


def test_volume_attach_shows_refusal_when_server_cannot_take_it(
    carol, carol_project, carol_client, send, boot, queued_jobs
):
    server = boot("web")  # still building: jobs are queued, not run
    [volume] = _volumes(carol_project, carol, 1)
    response = send(
        carol_client.post, "/cloud/volumes/attach/", {"volume": str(volume.pk), "server": str(server.pk)}, follow=True
    )
    assert response.status_code == 200 and "Cannot 'attach_volume'" in _messages(response)
    assert Volume.objects.get(pk=volume.pk).status == "available"


def test_volume_pages_are_404_when_volume_or_server_is_foreign(
    carol, carol_project, dave, dave_project, carol_client, send, boot, inline_jobs
):
    [foreign] = _volumes(dave_project, dave, 1)
    [mine] = _volumes(carol_project, carol, 1)
    server = boot("web")
    for url in (
        f"/cloud/volumes/{foreign.pk}/",
        f"/cloud/volumes/{uuid.uuid4()}/",
        "/cloud/volumes/not-a-uuid/",
        f"/cloud/volumes/{foreign.pk}/delete/",
    ):
        assert carol_client.get(url).status_code == 404, url
    for url in (f"/cloud/volumes/{foreign.pk}/delete/", f"/cloud/volumes/{foreign.pk}/detach/"):
        assert send(carol_client.post, url).status_code == 404, url
    assert send(carol_client.post, f"/cloud/volumes/{foreign.pk}/extend/", {"new_size": 5}).status_code == 404
    attach = send(carol_client.post, "/cloud/volumes/attach/", {"volume": str(foreign.pk), "server": str(server.pk)})
    assert attach.status_code == 404
    from tests.ui.compute_fixtures import _make_servers

    [other] = _make_servers(dave_project, dave, 1)
    attach = send(carol_client.post, "/cloud/volumes/attach/", {"volume": str(mine.pk), "server": str(other.pk)})
    assert attach.status_code == 404 and carol_client.get(f"/cloud/volumes/server/{other.pk}/").status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.size) == ("available", 1)


def test_volume_writes_are_403_when_user_is_reader(carol, carol_project):
    [volume] = _volumes(carol_project, carol, 1)
    reader = UserFactory(name="rita")
    assign(reader, carol_project, "reader")
    reader.default_project = carol_project
    reader.save(update_fields=["default_project"])
    client = login(reader)
    page = client.get(f"/cloud/volumes/{volume.pk}/").content.decode()
    assert 'id="delete-button"' not in page and 'id="new-volume"' not in client.get("/cloud/volumes/").content.decode()
    assert client.get("/cloud/volumes/new/").status_code == 403
    assert client.post(f"/cloud/volumes/{volume.pk}/delete/").status_code == 403
    assert client.post(f"/cloud/volumes/{volume.pk}/extend/", {"new_size": 3}).status_code == 403
    assert Volume.objects.get(pk=volume.pk).size == 1
