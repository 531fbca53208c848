"""The cluster admin pages: admins only, capacity bars, nodes/instances tables, confirmed actions, live job log."""

from __future__ import annotations

import os

import pytest

from backend_ganeti.models import Cluster, Job
from backend_ganeti.ui import actions
from portal.models import AuditEvent
from tests.backend_ganeti.admin_fixtures import like
from tests.factories import PASSWORD

pytest_plugins = ["tests.backend_ganeti.admin_fixtures"]

PAGES = [
    "/manage/clusters/",
    "/manage/clusters/alpha/",
    "/manage/clusters/alpha/drain/",
    "/manage/nodes/{node}/evacuate/",
    "/manage/instances/{instance}/migrate/",
    "/manage/jobs/",
    "/manage/jobs/{job}/",
    "/manage/jobs/{job}/live/",
]


def page(template: str, estate) -> str:
    return template.format(node=estate.node1.pk, instance=estate.web1_beta.pk, job=estate.job.pk)


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_answer_200_when_admin(estate, admin_web, path):
    assert admin_web.get(page(path, estate)).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_answer_403_when_member(estate, member_web, path):
    assert member_web.get(page(path, estate)).status_code == 403


def test_admin_pages_redirect_to_login_when_anonymous(estate, client):
    response = client.get("/manage/clusters/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_action_post_changes_nothing_when_member(estate, member_web):
    assert member_web.post("/manage/clusters/alpha/offline/").status_code == 403
    assert Cluster.objects.get(name="alpha").state == Cluster.State.ENABLED


def test_navbar_links_clusters_and_jobs_when_admin(estate, admin_web):
    html = admin_web.get("/manage/jobs/").content.decode()
    assert 'href="/manage/clusters/"' in html and 'href="/manage/jobs/"' in html


# --- clusters ----------------------------------------------------------------------------------------


def test_cluster_list_shows_capacity_bars_and_badges_when_admin(estate, admin_web):
    Cluster.objects.filter(name="beta").update(reachable=False, last_error="connection refused")
    html = admin_web.get("/manage/clusters/").content.decode()
    assert 'id="cluster-alpha"' in html and 'id="cluster-beta"' in html
    assert "4.0 GiB of 16.0 GiB" in html  # memory used of total
    assert "100.0 GiB of 200.0 GiB" in html  # disk
    assert "4 vCPU of 16 vCPU" in html
    assert 'style="width: 25.0%"' in html
    assert "not reported" in html  # beta's disk
    assert "cluster-unreachable" in html and 'title="connection refused"' in html
    assert "s3cret" not in html


def test_cluster_detail_shows_nodes_instances_jobs_when_admin(estate, admin_web):
    Cluster.objects.filter(name="alpha").update(state=Cluster.State.DRAINED)
    estate.node2.drained = True
    estate.node2.save()
    html = admin_web.get("/manage/clusters/alpha/").content.decode()
    for header in ("DTotal", "DFree", "MTotal", "MFree", "Pinst", "Sinst"):
        assert f">{header}<" in html
    assert f'id="node-{estate.node1.pk}"' in html and "node-drained" in html
    assert "50.0 GiB" in html  # node1 DFree
    assert f'href="/manage/nodes/{estate.node1.pk}/evacuate/"' in html
    assert f'href="/manage/nodes/{estate.node2.pk}/undrain/"' in html
    assert f'href="/manage/nodes/{estate.node1.pk}/drain/"' in html
    assert f'id="instance-{estate.db1.pk}"' in html
    assert f'href="/manage/instances/{estate.db1.pk}/start/"' in html
    assert f'href="/manage/instances/{estate.web1.pk}/migrate/"' in html
    assert f'href="/manage/jobs/{estate.job.pk}/"' in html
    assert 'href="/manage/clusters/alpha/undrain/"' in html
    assert 'href="/manage/clusters/alpha/drain/"' not in html


def test_cluster_detail_answers_404_when_unknown(db, admin_web):
    assert admin_web.get("/manage/clusters/nope/").status_code == 404


def test_cluster_action_answers_404_when_action_unknown(estate, admin_web):
    assert admin_web.post("/manage/clusters/alpha/explode/").status_code == 404


def test_confirm_page_asks_and_changes_nothing_when_fetched(estate, admin_web):
    html = admin_web.get("/manage/clusters/alpha/offline/").content.decode()
    assert "Take cluster alpha offline?" in html
    assert 'action="/manage/clusters/alpha/offline/"' in html
    assert Cluster.objects.get(name="alpha").state == Cluster.State.ENABLED


def test_cluster_drain_post_sets_state_and_redirects_when_confirmed(estate, admin_web):
    response = admin_web.post("/manage/clusters/alpha/drain/")
    assert response.status_code == 302
    assert response["Location"] == "/manage/clusters/alpha/"
    assert Cluster.objects.get(name="alpha").state == Cluster.State.DRAINED
    event = AuditEvent.objects.get(action="backend.set_cluster_state")
    assert event.actor_name == "cloud-admin"


def test_cluster_refresh_post_shows_409_message_when_unreachable(estate, admin_web, monkeypatch):
    from backend_ganeti.errors import ClusterOffline

    def offline(cluster):
        raise ClusterOffline(f"Cluster {cluster.name} is unreachable: connection refused")

    monkeypatch.setattr(
        actions.cluster_service, "refresh_cluster", like(actions.cluster_service.refresh_cluster, offline)
    )
    response = admin_web.post("/manage/clusters/alpha/refresh/")
    assert response.status_code == 409
    assert "Cluster alpha is unreachable: connection refused" in response.content.decode()


# --- node and instance actions -----------------------------------------------------------------------


def test_node_evacuate_post_creates_job_and_redirects_to_it_when_confirmed(estate, admin_web, no_enqueue):
    response = admin_web.post(f"/manage/nodes/{estate.node2.pk}/evacuate/", {"mode": "secondary-only"})
    job = Job.objects.get(operation="evacuate_node")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/jobs/{job.pk}/"
    assert (job.target, job.params["mode"], job.actor) == ("node2.alpha", "secondary-only", "cloud-admin")


def test_node_evacuate_post_answers_400_when_mode_invalid(estate, admin_web):
    response = admin_web.post(f"/manage/nodes/{estate.node2.pk}/evacuate/", {"mode": "sideways"})
    assert response.status_code == 400
    assert not Job.objects.filter(operation="evacuate_node").exists()


def test_instance_migrate_post_calls_service_with_options_when_confirmed(estate, admin_web, monkeypatch):
    calls = []

    def fake_migrate(instance, *, target_node=None, live=True, actor):
        calls.append((instance.pk, target_node, live, actor.name))
        return Job.objects.create(cluster=instance.cluster, operation="migrate", target=instance.name)

    monkeypatch.setattr(actions.operations, "migrate_instance", like(actions.operations.migrate_instance, fake_migrate))
    response = admin_web.post(f"/manage/instances/{estate.web1.pk}/migrate/", {"target_node": "node2.alpha"})
    job = Job.objects.get(operation="migrate", target="web1", job_id="")
    assert response["Location"] == f"/manage/jobs/{job.pk}/"
    assert calls == [(estate.web1.pk, "node2.alpha", False, "cloud-admin")]


def test_instance_migrate_form_offers_other_nodes_when_fetched(estate, admin_web):
    html = admin_web.get(f"/manage/instances/{estate.web1.pk}/migrate/").content.decode()
    assert '<option value="node2.alpha">' in html
    assert '<option value="node1.alpha">' not in html  # the current primary


def test_instance_migrate_post_shows_409_when_job_in_progress(estate, admin_web):
    response = admin_web.post(f"/manage/instances/{estate.web1.pk}/migrate/", {"live": "on"})
    assert response.status_code == 409
    assert f"has job {estate.job.pk}" in response.content.decode()
    assert Job.objects.count() == 1


def test_instance_start_post_creates_job_when_stopped(estate, admin_web, no_enqueue):
    response = admin_web.post(f"/manage/instances/{estate.db1.pk}/start/")
    job = Job.objects.get(operation="start")
    assert response["Location"] == f"/manage/jobs/{job.pk}/"


# --- jobs --------------------------------------------------------------------------------------------


def test_job_list_filters_by_status_cluster_operation_when_given(estate, admin_web):
    done = Job.objects.create(cluster=estate.beta, operation="start", target="web1", status=Job.Status.SUCCESS)
    html = admin_web.get("/manage/jobs/?status=success").content.decode()
    assert f'id="job-{done.pk}"' in html
    assert f'id="job-{estate.job.pk}"' not in html
    html = admin_web.get("/manage/jobs/?cluster=alpha&operation=migrate").content.decode()
    assert f'id="job-{estate.job.pk}"' in html
    assert f'id="job-{done.pk}"' not in html


def test_job_detail_polls_live_log_when_unfinished(estate, admin_web):
    html = admin_web.get(f"/manage/jobs/{estate.job.pk}/").content.decode()
    assert f'hx-get="/manage/jobs/{estate.job.pk}/live/"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Migrating instance web1" in html
    assert 'style="width: 40%"' in html
    assert f'href="/manage/jobs/{estate.job.pk}/cancel/"' in html


def test_job_live_partial_renders_log_and_stops_polling_when_finished(estate, admin_web):
    Job.objects.filter(pk=estate.job.pk).update(
        status=Job.Status.ERROR,
        error="OpPrereqError: target node is drained",
        log=[*estate.job.log, {"serial": 0, "time": 1700000009.0, "kind": "portal", "message": "gave up"}],
    )
    response = admin_web.get(f"/manage/jobs/{estate.job.pk}/live/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a partial
    assert 'data-status="error"' in html and "hx-trigger" not in html
    assert "OpPrereqError: target node is drained" in html
    assert html.index("memory transfer progress") < html.index("gave up")  # stored order, not serial


def test_job_live_partial_polls_while_running_when_fetched(estate, admin_web):
    html = admin_web.get(f"/manage/jobs/{estate.job.pk}/live/").content.decode()
    assert 'hx-trigger="every 2s"' in html and 'data-status="running"' in html


def test_job_cancel_post_answers_409_when_finished(estate, admin_web):
    Job.objects.filter(pk=estate.job.pk).update(status=Job.Status.SUCCESS)
    response = admin_web.post(f"/manage/jobs/{estate.job.pk}/cancel/")
    assert response.status_code == 409
    assert "cannot be canceled" in response.content.decode()


# --- in a real browser -------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _in_thread(work) -> None:
    """Run ORM work outside the Playwright thread (its event loop makes Django refuse sync ORM calls)."""
    import threading

    from django.db import connection

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.mark.browser
@pytest.mark.live
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (apt-get install chromium)")
def test_evacuate_confirm_then_live_log_updates_when_driven_in_chromium(
    transactional_db, live_server, estate, admin_user, no_enqueue
):
    playwright_api = pytest.importorskip("playwright.sync_api")
    base = live_server.url
    node_pk = estate.node2.pk
    found: dict[str, int] = {}

    def progress() -> None:
        job = Job.objects.get(operation="evacuate_node")
        found["job"] = job.pk
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.RUNNING,
            job_id="42",
            progress=60,
            log=[{"serial": 1, "time": 1700000000.0, "kind": "message", "message": "Evacuating node2: 60 %"}],
        )

    def finish() -> None:
        Job.objects.filter(pk=found["job"]).update(status=Job.Status.SUCCESS, progress=100)

    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        js_errors: list[str] = []
        try:
            page = browser.new_context().new_page()
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", admin_user.name)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/manage/clusters/alpha/")
            page.click(f"#node-{node_pk} a:has-text('Evacuate')")
            assert "Evacuate node alpha/node2.alpha?" in page.inner_text("h1")
            page.select_option("select[name=mode]", "primary-only")
            page.click("#confirm-form button[type=submit]")
            page.wait_for_url(f"{base}/manage/jobs/*/")
            assert page.get_attribute("#job-live", "data-status") == "submitting"

            _in_thread(progress)
            page.locator("#job-log", has_text="Evacuating node2: 60 %").wait_for(timeout=10_000)
            assert page.get_attribute("#job-live", "data-status") == "running"

            _in_thread(finish)
            page.locator("#job-live[data-status='success']").wait_for(timeout=10_000)
            assert page.get_attribute("#job-live", "hx-trigger") is None
        finally:
            browser.close()
    assert js_errors == []
    assert no_enqueue == [found["job"]]
