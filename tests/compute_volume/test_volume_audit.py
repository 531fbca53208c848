"""Every change to a volume's attributes is in the audit log, with who did it and what changed."""

from __future__ import annotations

from portal.models import AuditEvent


def _events(volume_id: str) -> list[tuple[str, dict]]:
    rows = AuditEvent.objects.filter(target_id=volume_id).exclude(action="volume.create").order_by("id")
    return [(row.action, row.detail) for row in rows]


def test_attribute_changes_are_audited_with_their_keys_when_made_through_cinder(cinder, member):
    volume = cinder.create(1, name="old")
    path = f"/volumes/{volume['id']}"

    assert cinder.put(path, {"volume": {"name": "new"}}).status_code == 200
    assert cinder.post(f"{path}/metadata", {"metadata": {"a": "1"}}).status_code == 200
    assert cinder.delete(f"{path}/metadata/a").status_code == 200
    assert cinder.post(f"{path}/action", {"os-set_bootable": {"bootable": True}}).status_code == 200
    assert cinder.post(f"{path}/action", {"os-set_image_metadata": {"metadata": {"img": "x"}}}).status_code == 200
    assert cinder.post(f"{path}/action", {"os-unset_image_metadata": {"key": "img"}}).status_code == 200

    assert _events(volume["id"]) == [
        ("volume.update", {"name": "new"}),
        ("volume.set_metadata", {"keys": ["a"], "replace": False}),
        ("volume.delete_metadata", {"key": "a"}),
        ("volume.set_bootable", {"bootable": True}),
        ("volume.set_image_metadata", {"keys": ["img"]}),
        ("volume.unset_image_metadata", {"key": "img"}),
    ]
    assert set(AuditEvent.objects.filter(target_id=volume["id"]).values_list("actor_id", flat=True)) == {str(member.pk)}


def test_a_refused_change_leaves_no_audit_event(cinder):
    volume = cinder.create(1)
    assert cinder.delete(f"/volumes/{volume['id']}/metadata/missing").status_code == 404
    assert _events(volume["id"]) == []
