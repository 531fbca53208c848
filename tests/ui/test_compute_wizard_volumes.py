"""The create wizard's Volumes step: the project's available volumes only, new blank volumes with
their quota in the impact panel, existing and new volumes attached once the server is ACTIVE (they
wait while it builds), refusals as form errors (over quota, foreign volume, bad size, several
servers), and a server that fails before ACTIVE leaving its volumes available with the reason."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from backend_ganeti.services import jobs
from compute.models import PendingVolumeAttachment, Server
from compute.volume.models import Volume, VolumeType
from compute.volume.services import pending
from compute.volume.services.types import default_type, seed_volume_types
from compute.volume.services.volumes import VolumeSpec, create_volume
from identity.models import Project, User
from identity.services import quotas
from portal.models import AuditEvent

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db

URL = "/cloud/servers/new/"


def _volume(project: Project, user: User, name: str, size: int = 1) -> Volume:
    return create_volume(project, VolumeSpec(size=size, volume_type=default_type(), name=name), actor=user)


@pytest.fixture
def form_data(flavors, image, network, cluster) -> Callable[..., dict]:
    """`form_data(name, **volume_fields)`: a valid wizard POST for one m1.tiny server."""

    def make(name: str = "vm", **extra: object) -> dict:
        return {"name": name, "count": 1, "image": image, "flavor": "1", "network": str(network.pk), **extra}

    return make


@pytest.fixture
def run_jobs(queued_jobs, django_capture_on_commit_callbacks) -> Callable[[], int]:
    """Run every queued job (and what they queue) to its end, as the worker would; how many ran."""

    def run() -> int:
        count = 0
        while queued_jobs:
            with django_capture_on_commit_callbacks(execute=True):
                jobs.run_job(queued_jobs.pop(0))
            count += 1
        return count

    return run


def test_wizard_offers_only_available_volumes_of_the_project_when_opened(
    carol, carol_project, carol_client, dave, dave_project, flavors, image, network
):
    mine = _volume(carol_project, carol, "mine")
    busy = _volume(carol_project, carol, "busy")
    Volume.objects.filter(pk=busy.pk).update(status="in-use")
    _volume(dave_project, dave, "daves")
    response = carol_client.get(URL)
    assert response.status_code == 200
    vform = response.context["volume_form"]
    assert [value for value, _label in vform.fields["attach"].choices] == [str(mine.pk)]
    html = response.content.decode()
    assert 'id="wizard-volumes"' in html and "mine — 1 GiB, file" in html
    assert "daves" not in html and "busy" not in html
    assert html.count('class="form-control new-volume-size"') == 3
    assert 'data-resource="volume.gib" data-over="false"' in html


def test_quota_preview_counts_new_volumes_when_sizes_given(carol, carol_project, carol_client, flavors):
    _volume(carol_project, carol, "old", size=3)
    response = carol_client.get(f"{URL}quota/?flavor=1&count=1&vol-size_0=2&vol-size_1=&vol-size_2=5")
    rows = {row.resource: row for row in response.context["impact"]}
    assert (rows["volume.volumes"].used, rows["volume.volumes"].request) == (1, 2)
    assert (rows["volume.gib"].used, rows["volume.gib"].request) == (3, 7)
    html = response.content.decode()
    assert "+ 2 new volumes (7 GiB)" in html and "3 GiB + 7 GiB of 1000 GiB" in html


def test_wizard_attaches_existing_and_new_volume_once_server_is_active(
    carol, carol_project, carol_client, send, form_data, queued_jobs, run_jobs
):
    existing = _volume(carol_project, carol, "data")
    data = form_data("web", **{"vol-attach": [str(existing.pk)], "vol-size_0": "2", "vol-name_0": "scratch"})
    response = send(carol_client.post, URL, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    server = Server.objects.get(project=carol_project, name="web")
    assert response["Location"] == f"/cloud/servers/{server.pk}/"
    new = Volume.objects.get(project=carol_project, name="scratch")
    assert (new.size, new.status, new.charged) == (2, "available", {"volume.volumes": 1, "volume.gib": 2})
    # Still building (its create job is queued): both wait, available, shown on the server's card.
    assert server.vm_state == "building"
    assert set(PendingVolumeAttachment.objects.filter(server=server).values_list("volume_id", flat=True)) == {
        existing.pk,
        new.pk,
    }
    card = carol_client.get(f"/cloud/volumes/server/{server.pk}/").content.decode()
    assert card.count('class="d-flex align-items-center gap-2 mb-1 server-volume-waiting"') == 2
    assert 'data-polling="true"' in card
    assert run_jobs() == 3  # the create, then one attach job after the other
    server.refresh_from_db()
    assert server.vm_state == "active"
    rows = {row.pk: row for row in Volume.objects.filter(pk__in=[existing.pk, new.pk])}
    assert {(row.status, row.server_id) for row in rows.values()} == {("in-use", server.pk)}
    assert sorted(row.device for row in rows.values()) == ["/dev/vdb", "/dev/vdc"]
    assert not PendingVolumeAttachment.objects.exists()
    card = carol_client.get(f"/cloud/volumes/server/{server.pk}/").content.decode()
    assert card.count('class="d-flex align-items-center gap-2 mb-1 server-volume"') == 2 and "scratch" in card
    assert 'data-polling="false"' in card


def test_wizard_attaches_volume_at_once_when_server_is_active_on_commit(
    carol, carol_project, carol_client, send, form_data, inline_jobs
):
    response = send(carol_client.post, URL, form_data("fast", **{"vol-size_0": "1"}), follow=True)
    assert response.status_code == 200
    assert "Its 1 volume(s) are attached once it is ACTIVE." in " ".join(str(m) for m in response.context["messages"])
    server = Server.objects.get(project=carol_project, name="fast")
    [volume] = Volume.objects.filter(project=carol_project)
    assert (server.vm_state, volume.status, volume.server_id) == ("active", "in-use", server.pk)


def test_wizard_shows_volume_quota_over_in_panel_and_refuses_submit(
    carol, carol_project, carol_client, send, form_data, inline_jobs
):
    quotas.set_limit(carol_project, "volume.gib", 4, actor=None)
    _volume(carol_project, carol, "old", size=2)
    preview = carol_client.get(f"{URL}quota/?flavor=1&count=1&vol-size_0=3").content.decode()
    assert 'data-resource="volume.gib" data-over="true"' in preview and 'id="impact-over"' in preview
    assert 'data-resource="volume.volumes" data-over="false"' in preview
    response = send(carol_client.post, URL, form_data("big", **{"vol-size_0": "3", "vol-name_0": "too-big"}))
    assert response.status_code in (403, 413)
    html = response.content.decode()
    assert "VolumeSizeExceedsAvailableQuota" in html
    assert 'data-resource="volume.gib" data-over="true"' in html  # the panel of the re-shown form
    assert not Server.objects.filter(project=carol_project).exists()  # all or none: the server rolled back
    assert not Volume.objects.filter(name="too-big").exists()
    usage = {row["resource"]: row for row in quotas.usage(carol_project)}
    assert usage["volume.gib"]["usage"] + usage["volume.gib"].get("pending", 0) == 2
    assert usage["compute.servers"]["usage"] + usage["compute.servers"].get("pending", 0) == 0


def test_wizard_refuses_volume_of_another_project_when_posted_by_hand(
    carol, carol_project, carol_client, send, form_data, dave, dave_project, inline_jobs
):
    foreign = _volume(dave_project, dave, "daves")
    response = send(carol_client.post, URL, form_data("thief", **{"vol-attach": [str(foreign.pk)]}))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Server.objects.filter(project=carol_project).exists()
    foreign.refresh_from_db()
    assert (foreign.status, foreign.server_id) == ("available", None)
    assert not PendingVolumeAttachment.objects.exists()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"vol-size_0": "0"}, "greater than or equal to 1"),
        ({"vol-size_0": "abc"}, "Enter a whole number"),
        ({"vol-size_1": "999999"}, "less than or equal to 16384"),
        ({"vol-name_2": "no-size"}, "Give the size of this new volume"),
        ({"vol-size_0": "1", "count": 2}, "when creating one server only"),
    ],
)
def test_wizard_shows_form_error_when_volume_input_is_bad(
    carol_project, carol_client, send, form_data, inline_jobs, fields, message
):
    response = send(carol_client.post, URL, form_data("bad", **fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Server.objects.filter(project=carol_project).exists()
    assert not Volume.objects.filter(project=carol_project).exists()


def test_wizard_refuses_volume_type_of_another_disk_template(
    carol, carol_project, carol_client, send, form_data, inline_jobs
):
    seed_volume_types()
    drbd = VolumeType.objects.get(name="drbd")
    response = send(carol_client.post, URL, form_data("t", **{"vol-size_0": "1", "vol-type_0": str(drbd.pk)}))
    assert response.status_code == 400
    assert "Type drbd uses disk template drbd" in response.content.decode()
    assert not Server.objects.filter(project=carol_project).exists()


def test_pending_volume_stays_available_with_reason_when_server_fails_before_active(
    carol, carol_project, carol_client, send, form_data, queued_jobs
):
    existing = _volume(carol_project, carol, "data")
    response = send(carol_client.post, URL, form_data("doomed", **{"vol-attach": [str(existing.pk)]}))
    assert response.status_code == 302
    server = Server.objects.get(project=carol_project, name="doomed")
    assert pending.settle(server.pk) == 1  # building: it waits
    Server.objects.filter(pk=server.pk).update(vm_state="error")
    assert pending.settle(server.pk) == 0
    existing.refresh_from_db()
    assert (existing.status, existing.server_id) == ("available", None)
    assert "went to error before it could take the volume" in existing.fault
    assert AuditEvent.objects.filter(action="volume.pending_dropped").exists()
    assert not PendingVolumeAttachment.objects.exists()
    # The volume is free again: the wizard offers it.
    vform = carol_client.get(URL).context["volume_form"]
    assert str(existing.pk) in dict(vform.fields["attach"].choices)


def test_wizard_does_not_offer_volume_another_new_server_waits_for(
    carol, carol_project, carol_client, send, form_data, queued_jobs
):
    existing = _volume(carol_project, carol, "data")
    assert send(carol_client.post, URL, form_data("first", **{"vol-attach": [str(existing.pk)]})).status_code == 302
    assert carol_client.get(URL).context["volume_form"].fields["attach"].choices == []
    response = send(carol_client.post, URL, form_data("second", **{"vol-attach": [str(existing.pk)]}))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_wizard_offers_volume_again_when_its_server_was_deleted_without_an_event(
    carol, carol_project, carol_client, send, form_data, queued_jobs
):
    existing = _volume(carol_project, carol, "data")
    assert send(carol_client.post, URL, form_data("gone", **{"vol-attach": [str(existing.pk)]})).status_code == 302
    Server.objects.filter(name="gone").update(vm_state="deleted", deleted_at=timezone.now())
    assert str(existing.pk) in dict(carol_client.get(URL).context["volume_form"].fields["attach"].choices)
    response = send(carol_client.post, URL, form_data("again", **{"vol-attach": [str(existing.pk)]}))
    assert response.status_code == 302
    row = PendingVolumeAttachment.objects.get(volume=existing)
    assert row.server.name == "again"
    assert AuditEvent.objects.filter(action="volume.pending_dropped", target_id=str(existing.pk)).exists()
