"""The gnt_* management commands: gnt-like tables, name resolution, jobs through the services, errors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backend_ganeti.errors import ClusterOffline
from backend_ganeti.management.commands import gnt_cluster
from backend_ganeti.management.tables import format_unit
from backend_ganeti.models import Cluster, Instance, Job
from portal.models import AuditEvent
from tests.backend_ganeti.admin_fixtures import SECRET, like, make_cluster, make_node

pytest_plugins = ["tests.backend_ganeti.admin_fixtures"]


def run(*args: str) -> str:
    """Run a command, return its stdout."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


# --- formatting --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mib", "units", "expected"),
    [
        (512, "h", "512M"),
        (1229, "h", "1.2G"),
        (102400, "h", "100.0G"),
        (3 * 1024 * 1024, "h", "3.0T"),
        (102400, "m", "102400"),
        (1536, "g", "1.5"),
        (1024 * 1024, "t", "1.0"),
    ],
)
def test_format_unit_matches_ganeti_when_given_units(mib, units, expected):
    assert format_unit(mib, units) == expected


# --- gnt_node ----------------------------------------------------------------------------------------


def test_node_list_prints_gnt_node_columns_when_cluster_given(estate):
    out = rows(run("gnt_node", "list", "--cluster", "alpha"))
    assert out[0] == ["Node", "DTotal", "DFree", "MTotal", "MFree", "Pinst", "Sinst"]
    assert out[1] == ["node1.alpha", "100.0G", "50.0G", "8.0G", "6.0G", "2", "0"]
    assert out[2] == ["node2.alpha", "100.0G", "2.0G", "8.0G", "1.5G", "0", "1"]
    assert len(out) == 3


def test_node_list_right_aligns_numbers_when_aligned(estate):
    lines = run("gnt_node", "list", "--cluster", "alpha").splitlines()
    header, first = lines[0], lines[1]
    assert header.index("Pinst") + len("Pinst") == first.index("2") + 1
    assert all(line == line.rstrip() for line in lines)


def test_node_list_prints_plain_mib_when_separator_given(estate):
    out = run("gnt_node", "list", "--cluster", "alpha", "--separator=|", "--no-headers")
    assert out.splitlines() == ["node1.alpha|102400|51200|8192|6144|2|0", "node2.alpha|102400|2048|8192|1536|0|1"]


def test_node_list_starts_with_cluster_when_no_cluster_given(estate):
    out = rows(run("gnt_node", "list"))
    assert out[0][:2] == ["Cluster", "Node"]
    assert [r[0] for r in out[1:]] == ["alpha", "alpha", "beta"]
    assert out[3][2:4] == ["?", "?"]  # the libvirt host reports no disk


def test_node_list_marks_unreported_values_with_star_when_node_offline(estate):
    make_node(estate.alpha, "node3.alpha", offline=True, mtotal=None, mfree=None, dtotal=None, dfree=None)
    out = rows(run("gnt_node", "list", "--cluster", "alpha", "-o", "node,mfree,offline"))
    assert out[-1] == ["node3.alpha", "*", "Y"]


def test_node_list_fails_when_field_unknown(estate):
    with pytest.raises(CommandError, match="Unknown output field"):
        run("gnt_node", "list", "-o", "node,bogus")


def test_node_evacuate_submits_job_when_node_exists(estate, no_enqueue):
    out = run("gnt_node", "evacuate", "alpha", "node2.alpha", "--mode", "primary-only")
    job = Job.objects.get(operation="evacuate_node")
    assert (job.target, job.params["mode"], job.cluster.name) == ("node2.alpha", "primary-only", "alpha")
    assert f"Job {job.pk} submitted" in out


def test_node_drain_accepts_short_name_when_unique(estate, no_enqueue):
    run("gnt_node", "drain", "alpha", "node1")
    job = Job.objects.get(operation="set_node_drained")
    assert (job.target, job.params) == ("node1.alpha", {"drained": True})


def test_node_evacuate_fails_when_node_unknown(estate):
    with pytest.raises(CommandError, match="Could not find node nodeX on cluster alpha"):
        run("gnt_node", "evacuate", "alpha", "nodeX")


# --- gnt_instance ------------------------------------------------------------------------------------


def test_instance_list_prints_gnt_instance_columns_when_listed(estate):
    out = rows(run("gnt_instance", "list"))
    assert out[0] == ["Instance", "Cluster", "OS", "Primary_node", "Status", "Memory"]
    assert ["db1", "alpha", "noop", "node1.alpha", "stopped", "2.0G"] in out
    assert ["web1", "beta", "noop", "host.beta", "running", "512M"] in out


def test_instance_list_filters_when_cluster_and_status_given(estate):
    out = rows(run("gnt_instance", "list", "--cluster", "alpha", "--status", "running", "--no-headers"))
    assert [r[0] for r in out] == ["web1"]


def test_instance_list_filters_when_project_given_by_name(estate):
    out = rows(run("gnt_instance", "list", "--project", estate.project.name, "--no-headers", "-o", "name,cluster"))
    assert out == [["web1", "alpha"]]


def test_instance_migrate_fails_naming_clusters_when_name_ambiguous(estate):
    with pytest.raises(CommandError, match=r"ambiguous.*alpha, beta"):
        run("gnt_instance", "migrate", "web1")
    assert not Job.objects.filter(operation="migrate").exclude(pk=estate.job.pk).exists()


def test_instance_migrate_submits_live_job_when_cluster_prefix_given(estate, no_enqueue):
    estate.job.status = Job.Status.SUCCESS
    estate.job.save()
    out = run("gnt_instance", "migrate", "alpha/web1", "--target-node", "node2.alpha")
    job = Job.objects.filter(operation="migrate").exclude(pk=estate.job.pk).get()
    assert job.instance == estate.web1
    assert job.params["target_node"] == "node2.alpha" and job.params["live"] is True
    assert f"Job {job.pk} submitted" in out


def test_instance_migrate_submits_non_live_job_when_cluster_option_given(estate, no_enqueue):
    run("gnt_instance", "migrate", "web1", "--cluster", "beta", "--non-live")
    job = Job.objects.get(operation="migrate", instance=estate.web1_beta)
    assert job.params["live"] is False


def test_instance_start_fails_with_state_message_when_running(estate):
    with pytest.raises(CommandError, match="Cannot start instance web1 while it is running"):
        run("gnt_instance", "start", "beta/web1")


def test_instance_stop_fails_when_cluster_offline(estate):
    Cluster.objects.filter(pk=estate.beta.pk).update(state=Cluster.State.OFFLINE)
    with pytest.raises(CommandError, match="offline"):
        run("gnt_instance", "stop", "beta/web1")


def test_instance_start_submits_job_when_stopped(estate, no_enqueue):
    run("gnt_instance", "start", "db1")
    assert Job.objects.filter(operation="start", instance=estate.db1).count() == 1


def test_instance_info_shows_nodes_and_jobs_when_found(estate):
    out = run("gnt_instance", "info", "alpha/web1")
    assert "Primary node: node1.alpha" in out
    assert "Secondary nodes: node2.alpha" in out
    assert f"  {estate.job.pk} migrate running" in out


def test_instance_info_fails_when_unknown(estate):
    with pytest.raises(CommandError, match="Could not find instance nope"):
        run("gnt_instance", "info", "nope")


# --- gnt_cluster -------------------------------------------------------------------------------------


def test_cluster_add_reads_password_file_when_given(db, tmp_path, monkeypatch):
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\n")
    calls = []

    def fake_add(**kwargs):
        calls.append(kwargs)
        return make_cluster(kwargs["name"], password=kwargs["password"])

    monkeypatch.setattr(
        gnt_cluster.cluster_service, "add_cluster", like(gnt_cluster.cluster_service.add_cluster, fake_add)
    )
    args = "add gamma --kind ganeti --endpoint https://g:5080 --username nefos --disk-templates file,diskless"
    out = run("gnt_cluster", *args.split(), "--password-file", str(secret_file), "--private")
    assert calls[0]["password"] == SECRET
    assert calls[0]["disk_templates"] == ("file", "diskless")
    assert calls[0]["public"] is False
    assert "Cluster gamma added" in out
    assert SECRET not in out


def test_cluster_add_prompts_for_password_when_no_file_given(db, monkeypatch):
    calls = []
    monkeypatch.setattr(gnt_cluster.getpass, "getpass", lambda prompt: SECRET)
    service = gnt_cluster.cluster_service
    fake = like(service.add_cluster, lambda **kwargs: calls.append(kwargs) or make_cluster(kwargs["name"]))
    monkeypatch.setattr(service, "add_cluster", fake)
    run("gnt_cluster", "add", "gamma", "--kind", "ganeti", "--endpoint", "https://g:5080", "--username", "u")
    assert calls[0]["password"] == SECRET


def test_cluster_add_refuses_password_option_when_given_on_command_line(db):
    with pytest.raises(CommandError, match="never taken on the command line") as caught:
        run("gnt_cluster", "add", "gamma", "--kind", "ganeti", "--endpoint", "https://g:5080", "--password", SECRET)
    assert SECRET not in str(caught.value)
    assert not Cluster.objects.filter(name="gamma").exists()


def test_cluster_add_fails_with_service_message_when_endpoint_invalid(db, tmp_path):
    with pytest.raises(CommandError, match="https://host:5080"):
        run("gnt_cluster", "add", "gamma", "--kind", "ganeti", "--endpoint", "http://g:5080")
    assert not Cluster.objects.filter(name="gamma").exists()


def test_cluster_list_shows_capacity_and_never_password_when_listed(estate):
    text = run("gnt_cluster", "list")
    out = rows(text)
    assert out[0] == ["Cluster", "Kind", "State", "Reachable", "Nodes", "Inst", "MTotal", "MFree", "DTotal", "DFree"]
    assert out[1] == ["alpha", "ganeti", "enabled", "Y", "2", "2", "16.0G", "12.0G", "200.0G", "100.0G"]
    assert SECRET not in text


def test_cluster_info_shows_settings_and_never_password_when_found(estate):
    text = run("gnt_cluster", "info", "alpha")
    assert "Endpoint: https://alpha.example.org:5080" in text
    assert "RAPI user: nefos" in text
    assert "vcpus: 4 used of 16" in text
    assert SECRET not in text


def test_cluster_info_fails_when_unknown(db):
    with pytest.raises(CommandError, match="Could not find cluster nope"):
        run("gnt_cluster", "info", "nope")


@pytest.mark.parametrize(
    ("command", "state"), [("drain", "drained"), ("offline", "offline"), ("undrain", "enabled"), ("online", "enabled")]
)
def test_cluster_state_commands_set_state_and_audit_when_run(estate, command, state):
    if state == "enabled":
        Cluster.objects.filter(pk=estate.alpha.pk).update(state=Cluster.State.DRAINED)
    run("gnt_cluster", command, "alpha")
    assert Cluster.objects.get(name="alpha").state == state
    assert AuditEvent.objects.filter(action="backend.set_cluster_state", target_id=str(estate.alpha.pk)).exists()


def test_cluster_remove_fails_when_instances_remain(estate):
    with pytest.raises(CommandError, match="still holds 2 instance"):
        run("gnt_cluster", "remove", "alpha")
    assert Cluster.objects.filter(name="alpha").exists()


def test_cluster_remove_forgets_cluster_when_empty(db):
    make_cluster("empty")
    assert "Cluster empty removed." in run("gnt_cluster", "remove", "empty")
    assert not Cluster.objects.filter(name="empty").exists()


def test_cluster_refresh_all_exits_nonzero_when_one_unreachable(estate, monkeypatch):
    def fake_refresh(cluster):
        if cluster.name == "beta":
            raise ClusterOffline("Cluster beta is unreachable: connection refused")
        return cluster

    service = gnt_cluster.cluster_service
    monkeypatch.setattr(service, "refresh_cluster", like(service.refresh_cluster, fake_refresh))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="Could not refresh: beta"):
        call_command("gnt_cluster", "refresh", "--all", stdout=out, stderr=err)
    assert out.getvalue().startswith("alpha: 2 nodes")
    assert "connection refused" in err.getvalue()


# --- gnt_job -----------------------------------------------------------------------------------------


def test_job_list_filters_by_status_when_given(estate):
    Job.objects.create(cluster=estate.beta, operation="start", target="web1", status=Job.Status.SUCCESS)
    out = rows(run("gnt_job", "list", "--status", "success", "--no-headers", "-o", "cluster,operation,status"))
    assert out == [["beta", "start", "success"]]


def test_job_list_fails_when_status_unknown(estate):
    with pytest.raises(CommandError, match="Unknown job status"):
        run("gnt_job", "list", "--status", "exploded")


def test_job_info_shows_log_when_found_by_cluster_job_id(estate):
    out = run("gnt_job", "info", "alpha/17")
    assert f"Job ID: {estate.job.pk}" in out
    assert "Progress: 40%" in out
    assert "Log (2 entries):" in out
    assert "message: * memory transfer progress: 40 %" in out


def test_job_info_fails_when_unknown(estate):
    with pytest.raises(CommandError, match="Could not find job 9999"):
        run("gnt_job", "info", "9999")


def test_job_cancel_marks_job_canceled_when_not_submitted(estate):
    job = Job.objects.create(cluster=estate.alpha, operation="start", target="db1", instance=estate.db1)
    run("gnt_job", "cancel", str(job.pk))
    job.refresh_from_db()
    assert job.status in (Job.Status.CANCELED, Job.Status.CANCELING)
    assert Instance.objects.get(pk=estate.db1.pk).status == Instance.Status.STOPPED
