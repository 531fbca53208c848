"""Volume services: the state table, quota charges and their crash resolver, quota sets and limits."""

from __future__ import annotations

import pytest

from compute.volume import states
from compute.volume.models import Volume
from compute.volume.services import charges, quota_sets, volumes
from compute.volume.services.types import default_type
from identity.quota_models import Commission
from identity.services import quotas
from portal.errors import QuotaExceeded, ValidationFailed

S, A = states.Status, states.Action


@pytest.mark.parametrize(
    ("action", "status", "target"),
    [
        (A.ATTACH, S.AVAILABLE, S.ATTACHING),
        (A.DETACH, S.IN_USE, S.DETACHING),
        (A.EXTEND, S.AVAILABLE, None),
        (A.DELETE, S.AVAILABLE, S.DELETING),
        (A.DELETE, S.ERROR, S.DELETING),
        (A.DELETE, S.ERROR_DELETING, S.DELETING),
    ],
)
def test_state_table_allows_action_when_status_fits(action, status, target):
    assert states.check(action, status, "v") == target


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (A.ATTACH, S.IN_USE),
        (A.ATTACH, S.ATTACHING),
        (A.DETACH, S.AVAILABLE),
        (A.DETACH, S.DETACHING),
        (A.EXTEND, S.IN_USE),
        (A.DELETE, S.IN_USE),
        (A.DELETE, S.ATTACHING),
        (A.DELETE, S.DELETING),
    ],
)
def test_state_table_refuses_action_with_400_when_status_does_not_fit(action, status):
    with pytest.raises(ValidationFailed, match="Invalid volume"):
        states.check(action, status, "v")


def test_completion_covers_every_in_progress_status():
    assert set(states.COMPLETION) == {S.ATTACHING, S.DETACHING, S.DELETING}
    assert states.COMPLETION[S.ATTACHING] == (S.IN_USE, S.AVAILABLE)
    assert states.COMPLETION[S.DETACHING] == (S.AVAILABLE, S.IN_USE)


def _usage(project) -> dict[str, tuple[int, int]]:
    return {row["resource"]: (row["usage"], row["pending"]) for row in quotas.usage(project)}


def test_create_charges_count_and_size_when_committed(project, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        volume = volumes.create_volume(project, volumes.VolumeSpec(size=3, volume_type=default_type()), actor=member)
    assert volume.charged == {charges.VOLUMES: 1, charges.GIB: 3}
    usage = _usage(project)
    assert (usage[charges.VOLUMES], usage[charges.GIB]) == ((1, 0), (3, 0))


def test_create_rolls_back_charge_when_over_quota(project, member):
    quotas.set_limit(project, charges.GIB, 2, actor=None)
    with pytest.raises(QuotaExceeded) as raised:
        volumes.create_volume(project, volumes.VolumeSpec(size=3, volume_type=default_type()), actor=member)
    assert raised.value.status == 413 and "Requested 3G, quota is 2G and 0G" in raised.value.message
    assert not Volume.objects.exists() and _usage(project)[charges.GIB] == (0, 0)


def test_resolver_accepts_charge_only_when_volume_exists(project, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        volume = volumes.create_volume(project, volumes.VolumeSpec(size=1, volume_type=default_type()), actor=member)
    assert charges.resolve(Commission(client_key=f"volume:{volume.pk}")) is True
    assert charges.resolve(Commission(client_key="volume:00000000-0000-0000-0000-000000000009")) is False
    assert charges.resolve(Commission(client_key=f"extend:{volume.pk}:4")) is True
    assert charges.resolve(Commission(client_key="volume:not-a-uuid")) is False
    assert charges.resolve(Commission(client_key=f"release:{volume.pk}")) is True


def test_quota_set_reports_usage_and_fixed_items_when_asked(project, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        volumes.create_volume(project, volumes.VolumeSpec(size=5, volume_type=default_type()), actor=member)
    plain = quota_sets.quota_set(project)
    assert (plain["volumes"], plain["gigabytes"], plain["snapshots"]) == (10, 1000, 0)
    used = quota_sets.quota_set(project, usage=True)
    assert used["gigabytes"] == {"limit": 1000, "in_use": 5, "reserved": 0}
    limits = quota_sets.absolute_limits(project)
    assert (limits["totalVolumesUsed"], limits["totalGigabytesUsed"], limits["maxTotalVolumes"]) == (1, 5, 10)


def test_quota_set_update_is_400_when_fixed_item_changes(project, admin_user):
    quota_sets.set_quotas(project, {"volumes": 4, "gigabytes": -1}, actor=admin_user)
    assert quota_sets.quota_set(project)["volumes"] == 4 and quota_sets.quota_set(project)["gigabytes"] == -1
    with pytest.raises(ValidationFailed, match="fixed at 0"):
        quota_sets.set_quotas(project, {"snapshots": 3}, actor=admin_user)
    with pytest.raises(ValidationFailed, match="Bad key"):
        quota_sets.set_quotas(project, {"bogus": 3}, actor=admin_user)


def test_quota_api_answers_usage_and_refuses_member_update(cinder, project):
    cinder.create(2)
    body = cinder.get(f"/os-quota-sets/{project.pk}?usage=True").json()["quota_set"]
    assert body["volumes"]["in_use"] == 1 and body["gigabytes"]["in_use"] == 2
    assert cinder.get(f"/os-quota-sets/{project.pk}/defaults").json()["quota_set"]["volumes"] == 10
    refused = cinder.put(f"/os-quota-sets/{project.pk}", {"quota_set": {"volumes": 99}})
    assert refused.status_code == 403
    limits = cinder.get("/limits").json()["limits"]
    assert limits["rate"] == [] and limits["absolute"]["totalGigabytesUsed"] == 2


def test_version_documents_advertise_served_range_when_discovered(client, db):
    root = client.get("/volume/")
    assert root.status_code == 300
    (version,) = root.json()["versions"]
    assert (version["id"], version["version"], version["min_version"], version["status"]) == (
        "v3.0",
        "3.0",
        "3.0",
        "CURRENT",
    )
    assert client.get("/volume/v3/").json()["versions"][0]["id"] == "v3.0"


def test_project_deletion_is_409_when_volume_disk_lives_on_cluster(project, member, admin_user, db):
    from identity.services.projects import delete_project
    from portal.errors import InvalidState
    from tests.backend_ganeti.backend_factories import make_cluster

    volume = volumes.create_volume(project, volumes.VolumeSpec(size=1, volume_type=default_type()), actor=member)
    Volume.objects.filter(pk=volume.pk).update(cluster=make_cluster("c1"))
    with pytest.raises(InvalidState, match="1 volume"):
        delete_project(project, actor=admin_user)
    assert Volume.objects.filter(pk=volume.pk).exists()
