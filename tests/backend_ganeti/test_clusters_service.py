"""The clusters service against fake cluster drivers: add, refresh, update, state, assignment, remove.

Also: credentials never reach audit details, reprs or error messages, and /health reports
unreachable clusters without failing.
"""

from __future__ import annotations

import json
import socket

import pytest

from backend_ganeti.errors import ClusterOffline, InvalidState
from backend_ganeti.models import Cluster, Instance, Node
from backend_ganeti.services import clusters
from portal.errors import Conflict, ValidationFailed
from portal.models import AuditEvent
from tests.backend_ganeti.fake_cluster_driver import FakeClusters, node
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ENDPOINT = "https://cluster-a.example.org:5080"
PASSWORD = "s3cret-rapi-pass"


@pytest.fixture
def fakes(monkeypatch) -> FakeClusters:
    """Fake clusters; the service's driver registry is replaced by theirs."""
    registry = FakeClusters()
    monkeypatch.setattr(clusters, "driver_for", registry.driver_for)
    return registry


@pytest.fixture
def fake_a(fakes):
    """Cluster A: two 8 GiB / 4-core nodes, plus a drained, an offline and a non-vm-capable node."""
    return fakes.add(
        ENDPOINT,
        name="cluster-a.example.org",
        nodes=[
            node("n1", mem=8192, disk=100_000, cpus=4, mfree=6144, dfree=80_000),
            node("n2", mem=8192, disk=100_000, cpus=4),
            node("n3", mem=8192, disk=100_000, cpus=4, drained=True, role="D"),
            node("n4", mem=None, disk=None, cpus=None, mfree=None, dfree=None, offline=True, role="O"),
            node("n5", mem=4096, disk=1000, cpus=2, vm_capable=False),
        ],
    )


def add_a(**overrides) -> Cluster:
    options = {
        "name": "a",
        "kind": "ganeti",
        "endpoint": ENDPOINT,
        "username": "admin",
        "password": PASSWORD,
        "actor": None,
    }
    options.update(overrides)
    return clusters.add_cluster(**options)


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("action", "detail", "target_repr")))


# --- add ---------------------------------------------------------------------------------------------


def test_add_cluster_records_nodes_and_capacity_when_cluster_answers(fake_a):
    cluster = add_a()

    cluster.refresh_from_db()
    assert cluster.reachable and cluster.last_seen is not None
    assert (cluster.software_version, cluster.hypervisor) == ("3.0.2", "kvm")
    assert sorted(cluster.nodes.values_list("name", flat=True)) == ["n1", "n2", "n3", "n4", "n5"]
    assert list(cluster.groups.values_list("name", flat=True)) == ["default"]
    assert Node.objects.get(cluster=cluster, name="n1").group.name == "default"
    # Only n1 and n2 count: n3 drained, n4 offline, n5 not vm-capable.
    assert (cluster.mem_total_mb, cluster.mem_free_mb) == (16384, 6144 + 8192)
    assert (cluster.disk_total_mb, cluster.disk_free_mb) == (200_000, 180_000)
    assert (cluster.cpu_total, cluster.cpu_used) == (8, 0)
    assert AuditEvent.objects.filter(action="backend.add_cluster", target_id=str(cluster.pk)).count() == 1


def test_add_cluster_stores_cluster_templates_when_none_given(fake_a):
    fake_a.disk_templates = ("file", "diskless", "sharedfile")

    cluster = add_a()

    assert cluster.disk_templates == ["file", "diskless", "sharedfile"]


def test_add_cluster_refused_when_template_not_enabled_on_cluster(fake_a):
    fake_a.disk_templates = ("file", "diskless")

    with pytest.raises(ValidationFailed, match=r"not enabled disk template.*drbd"):
        add_a(disk_templates=["file", "drbd"])
    assert not Cluster.objects.exists()


def test_add_cluster_refused_without_echoing_password_when_credentials_wrong(fake_a):
    with pytest.raises(ValidationFailed) as caught:
        add_a(password="wrong-password-123")

    assert "refused the credentials of user admin" in caught.value.message
    assert "wrong-password-123" not in str(caught.value)
    assert not Cluster.objects.exists()
    assert not AuditEvent.objects.exists()


def test_add_cluster_raises_offline_when_cluster_unreachable(fakes):
    with pytest.raises(ClusterOffline, match="cannot be reached"):
        add_a()
    assert not Cluster.objects.exists()


def test_add_cluster_raises_offline_when_real_driver_finds_nothing_listening():
    with socket.socket() as reserved:  # a bound, never-listening port: connections are refused
        reserved.bind(("127.0.0.1", 0))
        endpoint = f"https://127.0.0.1:{reserved.getsockname()[1]}"

        with pytest.raises(ClusterOffline, match="cannot be reached") as caught:
            add_a(endpoint=endpoint)

    assert PASSWORD not in str(caught.value)
    assert not Cluster.objects.exists()


def test_add_cluster_redacts_password_when_cluster_message_quotes_it(fake_a):
    fake_a.reachable = False
    fake_a.error_message = f"TLS failure for admin:{PASSWORD}@host"

    with pytest.raises(ClusterOffline) as caught:
        add_a()

    assert PASSWORD not in str(caught.value)
    assert "***" in caught.value.message


@pytest.mark.parametrize(
    ("kind", "endpoint", "message"),
    [
        ("ganeti", "http://cluster-a.example.org:5080", "https://"),
        ("ganeti", "cluster-a.example.org:5080", "https://"),
        ("ganeti", f"https://admin:{PASSWORD}@cluster-a.example.org:5080", "not in the endpoint"),
        ("libvirt", "unix://relative/path.sock", "unix:///absolute/path"),
        ("libvirt", "http://192.0.2.10:8000", "unix:///absolute/path"),
        ("libvirt", "http://127.0.0.1:8123", "unix:///absolute/path"),
        ("qemu", "qemu:///system", "kind is one of"),
        ("ganeti", "https://[::1:5080", "not a valid URL"),
        ("ganeti", "https://cluster-a.example.org:port", "not a valid URL"),
    ],
)
def test_add_cluster_refused_when_endpoint_does_not_suit_kind(fakes, kind, endpoint, message):
    fakes.add(endpoint)

    with pytest.raises(ValidationFailed, match=message) as caught:
        add_a(kind=kind, endpoint=endpoint)

    assert PASSWORD not in str(caught.value)
    assert not Cluster.objects.exists()
    assert not fakes.drivers  # refused before contacting anything


@pytest.mark.parametrize("endpoint", ["unix:///run/nefos/libvirt-host.sock"])
def test_add_cluster_accepts_libvirt_host_when_endpoint_is_a_socket(fakes, endpoint):
    fakes.add(endpoint, name="host", username="", password="", disk_templates=("file",))

    cluster = clusters.add_cluster(name="local", kind="libvirt", endpoint=endpoint, actor=None)

    assert cluster.kind == "libvirt" and cluster.nodes.count() == 2


@pytest.mark.parametrize("name", ["", "A", "-a", "has space", "under_score", "x" * 65])
def test_add_cluster_refused_when_name_is_not_a_slug(fake_a, name):
    with pytest.raises(ValidationFailed, match="cluster name"):
        add_a(name=name)


def test_add_cluster_refused_when_template_unknown(fake_a):
    with pytest.raises(ValidationFailed, match=r"Unknown disk template.*floppy"):
        add_a(disk_templates=["file", "floppy"])


def test_add_cluster_conflict_when_name_taken(fake_a):
    add_a()

    with pytest.raises(Conflict, match="exists already"):
        add_a()
    assert Cluster.objects.count() == 1


def test_add_cluster_conflict_when_same_name_added_while_contacting(fake_a):
    fake_a.on_query = lambda: Cluster.objects.get_or_create(name="a", defaults={"kind": "ganeti", "endpoint": ENDPOINT})

    with pytest.raises(Conflict, match="exists already"):
        add_a()
    assert Cluster.objects.count() == 1 and not Node.objects.exists()


def test_add_cluster_refused_when_ca_file_missing(fake_a, tmp_path):
    with pytest.raises(ValidationFailed, match="CA file"):
        add_a(ca_file=str(tmp_path / "missing.pem"))


# --- refresh -----------------------------------------------------------------------------------------


def test_refresh_cluster_syncs_nodes_when_nodes_appear_and_disappear(fake_a):
    cluster = add_a()
    fake_a.nodes = [node("n1", mem=16384, cpus=8), node("n6", mem=8192, cpus=4)]
    AuditEvent.objects.all().delete()

    clusters.refresh_cluster(cluster)

    cluster.refresh_from_db()
    assert sorted(cluster.nodes.values_list("name", flat=True)) == ["n1", "n6"]
    assert Node.objects.get(cluster=cluster, name="n1").mtotal == 16384
    assert (cluster.mem_total_mb, cluster.cpu_total) == (24576, 12)
    event = AuditEvent.objects.get(action="backend.refresh_cluster")
    assert event.detail["nodes_added"] == ["n6"]
    assert event.detail["nodes_removed"] == ["n2", "n3", "n4", "n5"]


def test_refresh_cluster_not_audited_when_nothing_changed(fake_a):
    cluster = add_a()
    AuditEvent.objects.all().delete()

    clusters.refresh_cluster(cluster)

    assert not AuditEvent.objects.exists()


def test_refresh_cluster_counts_vcpus_of_live_instances_when_computing_cpu_used(fake_a):
    cluster = add_a()
    for index, (vcpus, status) in enumerate([(2, "running"), (4, "building"), (8, "deleted"), (1, "stopped")]):
        Instance.objects.create(cluster=cluster, name=f"i{index}", vcpus=vcpus, status=status)

    clusters.refresh_cluster(cluster)

    cluster.refresh_from_db()
    assert cluster.cpu_used == 7


def test_refresh_cluster_keeps_reservations_when_snapshot_changes(fake_a):
    cluster = add_a()
    Cluster.objects.filter(pk=cluster.pk).update(reserved_mem_mb=1024, reserved_disk_mb=10, reserved_cpu=2)

    clusters.refresh_cluster(Cluster.objects.get(pk=cluster.pk))

    cluster.refresh_from_db()
    assert (cluster.reserved_mem_mb, cluster.reserved_disk_mb, cluster.reserved_cpu) == (1024, 10, 2)


def test_refresh_cluster_marks_unreachable_and_raises_when_cluster_down(fake_a):
    cluster = add_a()
    fake_a.reachable = False
    fake_a.error_message = "connection refused by 192.0.2.1:5080"

    with pytest.raises(ClusterOffline, match=r"is unreachable: .*connection refused"):
        clusters.refresh_cluster(cluster)
    with pytest.raises(ClusterOffline):
        clusters.refresh_cluster(cluster)

    cluster.refresh_from_db()
    assert cluster.reachable is False
    assert cluster.last_error == "cluster-a.example.org: connection refused by 192.0.2.1:5080"
    # Audited once, when reachability flipped, not on each failed refresh.
    failures = AuditEvent.objects.filter(action="backend.refresh_cluster", result="failure")
    assert failures.count() == 1


def test_refresh_cluster_marks_reachable_again_when_cluster_answers(fake_a):
    cluster = add_a()
    fake_a.reachable = False
    with pytest.raises(ClusterOffline):
        clusters.refresh_cluster(cluster)
    fake_a.reachable = True

    clusters.refresh_cluster(cluster)

    cluster.refresh_from_db()
    assert cluster.reachable and cluster.last_error == ""
    assert AuditEvent.objects.filter(action="backend.refresh_cluster", result="success").count() == 1


def test_refresh_cluster_redacts_password_when_error_quotes_it(fake_a):
    cluster = add_a()
    fake_a.reachable = False
    fake_a.error_message = f"proxy said: bad auth {PASSWORD}"

    with pytest.raises(ClusterOffline) as caught:
        clusters.refresh_cluster(cluster)

    cluster.refresh_from_db()
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in cluster.last_error and "***" in cluster.last_error
    assert PASSWORD not in audit_text()


def test_refresh_cluster_marks_unreachable_when_credentials_revoked(fake_a):
    cluster = add_a()
    fake_a.password = "rotated"

    with pytest.raises(ClusterOffline, match="401"):
        clusters.refresh_cluster(cluster)

    assert Cluster.objects.get(pk=cluster.pk).reachable is False


# --- update, state, projects ---------------------------------------------------------------------


def test_update_cluster_keeps_password_when_blank(fake_a):
    cluster = add_a()

    clusters.update_cluster(cluster, password="", username="admin", actor=None)

    assert Cluster.objects.get(pk=cluster.pk).password == PASSWORD


def test_update_cluster_clears_password_when_asked(fake_a):
    cluster = add_a()
    clusters.set_cluster_state(cluster, "offline", actor=None)  # offline: not contacted

    clusters.update_cluster(cluster, clear_password=True, actor=None)

    assert Cluster.objects.get(pk=cluster.pk).password == ""


def test_update_cluster_saves_new_password_without_logging_it_when_cluster_accepts(fake_a):
    cluster = add_a()
    fake_a.password = "new-rapi-pass-42"

    clusters.update_cluster(cluster, password="new-rapi-pass-42", actor=None)

    assert Cluster.objects.get(pk=cluster.pk).password == "new-rapi-pass-42"
    event = AuditEvent.objects.get(action="backend.update_cluster")
    assert event.detail == {"fields": ["password"]}
    assert "new-rapi-pass-42" not in audit_text() and PASSWORD not in audit_text()


def test_update_cluster_refused_and_unchanged_when_cluster_rejects_credentials(fake_a):
    cluster = add_a()

    with pytest.raises(ValidationFailed, match="refused the credentials") as caught:
        clusters.update_cluster(cluster, password="typo-pass-99", actor=None)

    assert "typo-pass-99" not in str(caught.value)
    assert Cluster.objects.get(pk=cluster.pk).password == PASSWORD
    assert not AuditEvent.objects.filter(action="backend.update_cluster").exists()


def test_update_cluster_changes_endpoint_without_contact_when_offline(fake_a, fakes):
    cluster = add_a()
    clusters.set_cluster_state(cluster, "offline", actor=None)
    calls = len(fakes.drivers)

    clusters.update_cluster(cluster, endpoint="https://new-master.example.org:5080", actor=None)

    assert Cluster.objects.get(pk=cluster.pk).endpoint == "https://new-master.example.org:5080"
    assert len(fakes.drivers) == calls


def test_update_cluster_refused_when_field_not_updatable(fake_a):
    cluster = add_a()

    with pytest.raises(ValidationFailed, match="set_cluster_state"):
        clusters.update_cluster(cluster, state="drained", actor=None)


def test_set_cluster_state_audits_transition_when_state_changes(fake_a):
    cluster = add_a()

    clusters.set_cluster_state(cluster, "drained", actor=None)

    assert Cluster.objects.get(pk=cluster.pk).state == "drained"
    assert AuditEvent.objects.get(action="backend.set_cluster_state").detail == {"from": "enabled", "to": "drained"}
    with pytest.raises(ValidationFailed):
        clusters.set_cluster_state(cluster, "paused", actor=None)


def test_set_cluster_projects_assigns_when_made_private(fake_a):
    cluster = add_a()
    first, second = ProjectFactory(), ProjectFactory()

    clusters.set_cluster_projects(cluster, [first, second], public=False, actor=None)

    cluster.refresh_from_db()
    assert cluster.public is False
    assert set(cluster.projects.all()) == {first, second}
    event = AuditEvent.objects.get(action="backend.set_cluster_projects")
    assert event.detail["projects"] == sorted([first.pk, second.pk])


# --- remove --------------------------------------------------------------------------------------------


def test_remove_cluster_refused_when_instances_live(fake_a):
    cluster = add_a()
    Instance.objects.create(cluster=cluster, name="web1", status="running")

    with pytest.raises(InvalidState, match="still holds 1 instance"):
        clusters.remove_cluster(cluster, actor=None)
    assert Cluster.objects.filter(pk=cluster.pk).exists()


def test_remove_cluster_deletes_rows_when_only_deleted_instances_left(fake_a):
    cluster = add_a()
    Instance.objects.create(cluster=cluster, name="old", status="deleted")

    clusters.remove_cluster(cluster, actor=None)

    assert not Cluster.objects.exists() and not Node.objects.exists() and not Instance.objects.exists()
    assert AuditEvent.objects.get(action="backend.remove_cluster").detail == {"name": "a"}


# --- secrets and health --------------------------------------------------------------------------------


def test_cluster_credentials_absent_when_rendered_or_audited(fake_a):
    cluster = add_a()
    clusters.update_cluster(cluster, username="admin", disk_templates=["file"], actor=None)

    assert PASSWORD not in repr(cluster) and PASSWORD not in str(cluster)
    assert PASSWORD not in audit_text()


def test_health_reports_unreachable_cluster_without_failing_when_cluster_down(fake_a, client):
    assert client.get("/health").json()["checks"]["clusters"] == {"status": "ok", "seconds": pytest.approx(0, abs=5)}
    cluster = add_a()
    fake_a.reachable = False
    with pytest.raises(ClusterOffline):
        clusters.refresh_cluster(cluster)

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["checks"]["clusters"]["status"] == "degraded"
    assert response.json()["checks"]["clusters"]["unreachable"] == ["a"]
