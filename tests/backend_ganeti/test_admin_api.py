"""The admin REST API under /api/admin/: admin only, passwords never returned, 202 + Job, faults, schema."""

from __future__ import annotations

import pytest
import yaml

from backend_ganeti.api import views
from backend_ganeti.errors import ClusterOffline
from backend_ganeti.models import Cluster, Instance, Job
from backend_ganeti.rapi.errors import ClusterUnreachable
from backend_ganeti.services.reconcile import Drift, ReconcileReport
from tests.backend_ganeti.admin_fixtures import SECRET, like, make_cluster

pytest_plugins = ["tests.backend_ganeti.admin_fixtures"]

ENDPOINTS = [
    ("get", "/api/admin/clusters/"),
    ("get", "/api/admin/clusters/alpha/"),
    ("get", "/api/admin/clusters/alpha/nodes/"),
    ("post", "/api/admin/clusters/alpha/drain/"),
    ("post", "/api/admin/clusters/alpha/reconcile/?dry_run=1"),
    ("get", "/api/admin/nodes/"),
    ("post", "/api/admin/nodes/{node}/evacuate/"),
    ("get", "/api/admin/instances/"),
    ("post", "/api/admin/instances/{instance}/migrate/"),
    ("get", "/api/admin/jobs/"),
    ("get", "/api/admin/jobs/{job}/"),
]


def url(template: str, estate) -> str:
    return template.format(node=estate.node1.pk, instance=estate.web1.pk, job=estate.job.pk)


def fault(response) -> dict:
    """The portal's JSON fault body."""
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_admin_api_forbids_access_when_caller_is_member(estate, member_api, method, path):
    response = getattr(member_api, method)(url(path, estate))
    assert response.status_code == 403
    assert fault(response)["code"] == 403
    assert Cluster.objects.get(name="alpha").state == Cluster.State.ENABLED


@pytest.mark.parametrize(("method", "path"), ENDPOINTS[:3])
def test_admin_api_asks_for_token_when_anonymous(estate, token_client, method, path):
    assert getattr(token_client(), method)(url(path, estate)).status_code == 401


# --- clusters ----------------------------------------------------------------------------------------


def test_cluster_list_never_returns_password_when_admin_lists(estate, admin_api):
    response = admin_api.get("/api/admin/clusters/")
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    rows = {row["name"]: row for row in response.json()["results"]}
    assert "password" not in rows["alpha"]
    assert rows["alpha"]["password_set"] is True and rows["beta"]["password_set"] is False
    assert (rows["alpha"]["node_count"], rows["alpha"]["instance_count"]) == (2, 2)


def test_cluster_create_passes_password_and_hides_it_when_valid(db, admin_api, monkeypatch, project):
    calls = []

    def fake_add(**kwargs):
        calls.append(kwargs)
        return make_cluster(kwargs["name"], password=kwargs["password"], public=kwargs["public"])

    monkeypatch.setattr(views.cluster_service, "add_cluster", like(views.cluster_service.add_cluster, fake_add))
    body = {
        "name": "gamma",
        "kind": "ganeti",
        "endpoint": "https://gamma.example.org:5080",
        "username": "nefos",
        "password": SECRET,
        "public": False,
        "projects": [project.pk],
        "disk_templates": ["file"],
    }
    response = admin_api.post("/api/admin/clusters/", body, format="json")
    assert response.status_code == 201
    assert SECRET not in response.content.decode()
    assert calls[0]["password"] == SECRET and calls[0]["disk_templates"] == ("file",)
    assert response.json()["projects"] == [project.pk]
    assert response.json()["public"] is False


def test_cluster_create_answers_400_when_endpoint_is_not_https(db, admin_api):
    body = {"name": "gamma", "kind": "ganeti", "endpoint": "http://gamma:5080", "password": SECRET}
    response = admin_api.post("/api/admin/clusters/", body, format="json")
    assert response.status_code == 400
    assert "https://host:5080" in fault(response)["message"]
    assert SECRET not in response.content.decode()


def test_cluster_create_answers_400_when_name_taken(estate, admin_api):
    body = {"name": "alpha", "kind": "ganeti", "endpoint": "https://a:5080"}
    response = admin_api.post("/api/admin/clusters/", body, format="json")
    assert response.status_code == 400
    assert "already exists" in fault(response)["message"]


def test_cluster_create_answers_409_when_cluster_unreachable(db, admin_api, monkeypatch):
    def unreachable(**kwargs):
        raise ClusterOffline("Cluster gamma at https://gamma:5080 cannot be reached: connection refused")

    monkeypatch.setattr(views.cluster_service, "add_cluster", like(views.cluster_service.add_cluster, unreachable))
    body = {"name": "gamma", "kind": "ganeti", "endpoint": "https://gamma:5080"}
    response = admin_api.post("/api/admin/clusters/", body, format="json")
    assert response.status_code == 409
    assert "cannot be reached" in fault(response)["message"]


def test_cluster_patch_changes_state_and_visibility_when_admin(estate, admin_api, project):
    body = {"state": "drained", "public": False, "projects": [project.pk]}
    response = admin_api.patch("/api/admin/clusters/beta/", body, format="json")
    assert response.status_code == 200
    cluster = Cluster.objects.get(name="beta")
    assert (cluster.state, cluster.public, list(cluster.projects.all())) == ("drained", False, [project])


def test_cluster_patch_stores_password_without_returning_it_when_offline(estate, admin_api):
    Cluster.objects.filter(name="alpha").update(state=Cluster.State.OFFLINE, password="")
    response = admin_api.patch("/api/admin/clusters/alpha/", {"password": SECRET, "name": "alpha2"}, format="json")
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert response.json()["password_set"] is True and response.json()["name"] == "alpha2"
    assert Cluster.objects.get(name="alpha2").password == SECRET


def test_cluster_patch_clears_password_when_asked(estate, admin_api):
    Cluster.objects.filter(name="alpha").update(state=Cluster.State.OFFLINE)
    response = admin_api.patch("/api/admin/clusters/alpha/", {"clear_password": True}, format="json")
    assert response.json()["password_set"] is False
    assert Cluster.objects.get(name="alpha").password == ""


def test_cluster_patch_answers_400_when_template_unknown(estate, admin_api):
    response = admin_api.patch("/api/admin/clusters/alpha/", {"disk_templates": ["floppy"]}, format="json")
    assert response.status_code == 400
    assert "floppy" in fault(response)["message"]


def test_cluster_patch_refuses_put_when_sent(estate, admin_api):
    assert admin_api.put("/api/admin/clusters/beta/", {}, format="json").status_code == 405


@pytest.mark.parametrize(
    ("verb", "state"), [("drain", "drained"), ("offline", "offline"), ("undrain", "enabled"), ("online", "enabled")]
)
def test_cluster_state_actions_set_state_when_posted(estate, admin_api, verb, state):
    Cluster.objects.filter(name="alpha").update(state=Cluster.State.DRAINED if state == "enabled" else "enabled")
    response = admin_api.post(f"/api/admin/clusters/alpha/{verb}/")
    assert response.status_code == 200
    assert response.json()["state"] == state == Cluster.objects.get(name="alpha").state


def test_cluster_delete_answers_409_when_instances_remain(estate, admin_api):
    response = admin_api.delete("/api/admin/clusters/alpha/")
    assert response.status_code == 409
    assert "still holds 2 instance" in fault(response)["message"]


def test_cluster_delete_answers_204_when_empty(db, admin_api):
    make_cluster("empty")
    assert admin_api.delete("/api/admin/clusters/empty/").status_code == 204
    assert not Cluster.objects.filter(name="empty").exists()


def test_cluster_unknown_answers_404_when_named(db, admin_api):
    response = admin_api.post("/api/admin/clusters/nope/drain/")
    assert response.status_code == 404
    assert fault(response)["code"] == 404


def test_cluster_refresh_answers_409_when_cluster_offline(estate, admin_api, monkeypatch):
    def offline(cluster):
        raise ClusterOffline(f"Cluster {cluster.name} is unreachable: connection refused")

    monkeypatch.setattr(views.cluster_service, "refresh_cluster", like(views.cluster_service.refresh_cluster, offline))
    response = admin_api.post("/api/admin/clusters/alpha/refresh/")
    assert response.status_code == 409
    assert fault(response)["message"] == "Cluster alpha is unreachable: connection refused"


def test_cluster_refresh_answers_502_not_500_when_driver_error_escapes(estate, admin_api, monkeypatch):
    def escaped(cluster):
        raise ClusterUnreachable("connection refused")

    monkeypatch.setattr(views.cluster_service, "refresh_cluster", like(views.cluster_service.refresh_cluster, escaped))
    response = admin_api.post("/api/admin/clusters/alpha/refresh/")
    assert response.status_code == 502
    assert fault(response)["code"] == 502


def test_cluster_reconcile_returns_report_when_dry_run(estate, admin_api, monkeypatch):
    calls = []

    def fake_reconcile(cluster, *, dry_run, actor=None):
        calls.append((cluster.name, dry_run, actor.name))
        return ReconcileReport(
            cluster=cluster.name,
            dry_run=dry_run,
            on_cluster=2,
            in_database=2,
            unknown_in_db=["ghost"],
            out_of_sync=[Drift("db1", {"status": ("stopped", "running")})],
        )

    monkeypatch.setattr(views.reconcile, "reconcile_cluster", like(views.reconcile.reconcile_cluster, fake_reconcile))
    response = admin_api.post("/api/admin/clusters/alpha/reconcile/?dry_run=1")
    assert response.status_code == 200
    body = response.json()
    assert calls == [("alpha", True, "cloud-admin")]
    assert body["unknown_in_db"] == ["ghost"] and body["differences"] == 2
    assert body["out_of_sync"] == [
        {"name": "db1", "fields": [{"field": "status", "database": "stopped", "cluster": "running"}]}
    ]


def test_cluster_nodes_lists_gnt_node_columns_when_asked(estate, admin_api):
    response = admin_api.get("/api/admin/clusters/alpha/nodes/")
    assert response.status_code == 200
    first = response.json()[0]
    assert first["name"] == "node1.alpha"
    assert {k: first[k] for k in ("dtotal", "dfree", "mtotal", "mfree", "pinst_cnt", "sinst_cnt")} == {
        "dtotal": 102400,
        "dfree": 51200,
        "mtotal": 8192,
        "mfree": 6144,
        "pinst_cnt": 2,
        "sinst_cnt": 0,
    }


# --- nodes -------------------------------------------------------------------------------------------


def test_node_evacuate_answers_202_with_job_when_posted(estate, admin_api, no_enqueue):
    response = admin_api.post(f"/api/admin/nodes/{estate.node2.pk}/evacuate/", {"mode": "all"}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.operation, job.target, job.status) == ("evacuate_node", "node2.alpha", "submitting")
    assert response.json()["cluster"] == "alpha"


def test_node_evacuate_answers_400_when_mode_unknown(estate, admin_api):
    response = admin_api.post(f"/api/admin/nodes/{estate.node2.pk}/evacuate/", {"mode": "sideways"}, format="json")
    assert response.status_code == 400
    assert fault(response)["message"].startswith("mode:")


def test_node_drain_answers_409_when_cluster_offline(estate, admin_api):
    Cluster.objects.filter(name="alpha").update(state=Cluster.State.OFFLINE)
    response = admin_api.post(f"/api/admin/nodes/{estate.node1.pk}/drain/")
    assert response.status_code == 409
    assert "offline" in fault(response)["message"]
    assert not Job.objects.filter(operation="set_node_drained").exists()


def test_node_list_filters_by_cluster_when_given(estate, admin_api):
    response = admin_api.get("/api/admin/nodes/?cluster=beta")
    assert [row["name"] for row in response.json()["results"]] == ["host.beta"]


# --- instances ---------------------------------------------------------------------------------------


def test_instance_list_filters_when_cluster_status_project_given(estate, admin_api):
    def names(query: str) -> list[tuple[str, str]]:
        rows = admin_api.get(f"/api/admin/instances/?{query}").json()["results"]
        return [(row["cluster"], row["name"]) for row in rows]

    assert names("cluster=beta") == [("beta", "web1")]
    assert names("status=stopped") == [("alpha", "db1")]
    assert names(f"project={estate.project.pk}") == [("alpha", "web1")]


def test_instance_list_hides_deleted_unless_asked_when_listed(estate, admin_api):
    Instance.objects.filter(pk=estate.db1.pk).update(status=Instance.Status.DELETED)
    assert len(admin_api.get("/api/admin/instances/").json()["results"]) == 2
    assert len(admin_api.get("/api/admin/instances/?status=deleted").json()["results"]) == 1


def test_instance_migrate_answers_202_with_job_when_running(estate, admin_api, no_enqueue):
    response = admin_api.post(
        f"/api/admin/instances/{estate.web1_beta.pk}/migrate/", {"target_node": "x", "live": False}, format="json"
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.operation, job.instance_id, job.params["live"]) == ("migrate", estate.web1_beta.pk, False)
    assert response.json()["status"] == "submitting"


def test_instance_migrate_answers_409_when_job_in_progress(estate, admin_api):
    response = admin_api.post(f"/api/admin/instances/{estate.web1.pk}/migrate/", {}, format="json")
    assert response.status_code == 409
    assert f"job {estate.job.pk}" in fault(response)["message"]


def test_instance_start_answers_409_when_running(estate, admin_api):
    response = admin_api.post(f"/api/admin/instances/{estate.web1_beta.pk}/start/")
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("verb", "body", "status"),
    [("start", None, 202), ("failover", {}, 202), ("stop", {"timeout": 5}, 409), ("reboot", {"hard": True}, 409)],
)
def test_instance_actions_follow_state_table_when_instance_stopped(estate, admin_api, no_enqueue, verb, body, status):
    response = admin_api.post(f"/api/admin/instances/{estate.db1.pk}/{verb}/", body, format="json")
    assert response.status_code == status
    assert Job.objects.filter(operation=verb, instance=estate.db1).count() == (1 if status == 202 else 0)


def test_instance_reboot_answers_400_when_hard_is_not_boolean(estate, admin_api):
    response = admin_api.post(f"/api/admin/instances/{estate.web1_beta.pk}/reboot/", {"hard": "maybe"}, format="json")
    assert response.status_code == 400


def test_instance_unknown_answers_404_when_acted_on(db, admin_api):
    response = admin_api.post("/api/admin/instances/999999/start/")
    assert response.status_code == 404
    assert fault(response)["code"] == 404


# --- jobs --------------------------------------------------------------------------------------------


def test_job_list_filters_when_cluster_status_operation_given(estate, admin_api):
    Job.objects.create(cluster=estate.beta, operation="start", target="web1", status=Job.Status.SUCCESS)

    def ops(query: str) -> list[str]:
        return [row["operation"] for row in admin_api.get(f"/api/admin/jobs/?{query}").json()["results"]]

    assert ops("cluster=beta") == ["start"]
    assert ops("status=running") == ["migrate"]
    assert ops("operation=start&status=success") == ["start"]
    assert "log" not in admin_api.get("/api/admin/jobs/").json()["results"][0]


def test_job_detail_includes_log_and_progress_when_retrieved(estate, admin_api):
    body = admin_api.get(f"/api/admin/jobs/{estate.job.pk}/").json()
    assert body["progress"] == 40 and body["finished"] is False
    assert [line["serial"] for line in body["log"]] == [1, 2]
    assert body["log"][1]["message"] == "* memory transfer progress: 40 %"
    assert body["log"][0]["time"].startswith("2023-11-14T22:13:20")


def test_job_cancel_answers_409_when_finished(estate, admin_api):
    Job.objects.filter(pk=estate.job.pk).update(status=Job.Status.SUCCESS)
    response = admin_api.post(f"/api/admin/jobs/{estate.job.pk}/cancel/")
    assert response.status_code == 409


# --- schema ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_includes_admin_paths_when_fetched(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = set(schema["paths"])
    assert {
        "/api/admin/clusters/",
        "/api/admin/clusters/{name}/",
        "/api/admin/clusters/{name}/reconcile/",
        "/api/admin/clusters/{name}/nodes/",
        "/api/admin/nodes/{id}/evacuate/",
        "/api/admin/instances/{id}/migrate/",
        "/api/admin/jobs/{id}/",
    } <= paths
    create = schema["paths"]["/api/admin/clusters/"]["post"]
    assert create["tags"] == ["admin: clusters"]
    cluster_schema = schema["components"]["schemas"]["Cluster"]
    assert "password" not in cluster_schema["properties"]
    assert schema["components"]["schemas"]["ClusterCreate"]["properties"]["password"]["writeOnly"] is True
