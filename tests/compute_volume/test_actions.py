"""Cinder's volume actions (compute/volume/api/actions.py): bootable flag, image metadata, refusals."""

from __future__ import annotations

from compute.volume.models import Volume
from tests.factories import UserFactory, assign


def test_bootable_flag_changes_when_set_bootable_action_sent(cinder):
    volume = cinder.create(1)
    for flag, shown in ((True, "true"), ("False", "false")):
        response = cinder.post(f"/volumes/{volume['id']}/action", {"os-set_bootable": {"bootable": flag}})
        assert response.status_code == 200, response.content
        assert cinder.show(volume["id"])["bootable"] == shown
    response = cinder.post(f"/volumes/{volume['id']}/action", {"os-set_bootable": {"bootable": "maybe"}})
    assert response.status_code == 400 and Volume.objects.get().bootable is False


def test_image_metadata_is_set_shown_and_unset_when_actions_sent(cinder_for, cinder, project):
    volume = cinder.create(1)
    action = f"/volumes/{volume['id']}/action"
    response = cinder.post(action, {"os-set_image_metadata": {"metadata": {"image_name": "i", "ramdisk_id": "r"}}})
    assert response.status_code == 200 and response.json() == {"metadata": {"image_name": "i", "ramdisk_id": "r"}}
    assert cinder.show(volume["id"])["volume_image_metadata"] == {"image_name": "i", "ramdisk_id": "r"}
    assert cinder.post(action, {"os-unset_image_metadata": {"key": "ramdisk_id"}}).status_code == 200
    reader = UserFactory()
    assign(reader, project, "reader")
    shown = cinder_for(reader, project, ("reader",)).post(action, {"os-show_image_metadata": {}})
    assert shown.status_code == 200 and shown.json() == {"metadata": {"image_name": "i"}}
    missing = cinder.post(action, {"os-unset_image_metadata": {"key": "ramdisk_id"}})
    assert missing.status_code == 404 and "itemNotFound" in missing.json()


def test_reader_is_403_when_changing_action_sent(cinder_for, cinder, project):
    volume = cinder.create(1)
    reader = UserFactory()
    assign(reader, project, "reader")
    response = cinder_for(reader, project, ("reader",)).post(
        f"/volumes/{volume['id']}/action", {"os-set_bootable": {"bootable": True}}
    )
    assert response.status_code == 403 and Volume.objects.get().bootable is False


def test_attach_protocol_actions_are_400_pointing_at_nova_when_sent(cinder):
    volume = cinder.create(1)
    response = cinder.post(f"/volumes/{volume['id']}/action", {"os-reserve": {}})
    assert response.status_code == 400 and "os-volume_attachments" in response.json()["badRequest"]["message"]
    assert Volume.objects.get().status == "available"
