"""The servers list and a server's page: paging, filters, polling only while a server moves, constant
query counts, actions with their confirmations, refusals as messages, foreign servers as 404."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compute.models import Server
from tests.factories import UserFactory, assign
from tests.ui.conftest import login

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db


def test_server_list_shows_empty_state_when_project_has_no_servers(carol_client):
    response = carol_client.get("/cloud/servers/")
    assert response.status_code == 200
    assert "No servers yet." in response.content.decode()
    assert 'data-polling="false"' in response.content.decode()


def test_server_list_shows_only_current_project_servers_when_others_exist(
    carol, carol_project, dave, dave_project, carol_client, make_servers
):
    make_servers(carol_project, carol, 2)
    make_servers(dave_project, dave, 3, vm_state="stopped")
    html = carol_client.get("/cloud/servers/").content.decode()
    assert html.count('class="server-row"') == 2
    assert 'data-status="ACTIVE"' in html and 'data-status="SHUTOFF"' not in html


def test_server_list_pages_by_fifty_when_project_has_more(carol, carol_project, carol_client, make_servers):
    make_servers(carol_project, carol, 55)
    first = carol_client.get("/cloud/servers/")
    html = first.content.decode()
    assert html.count('class="server-row"') == 50
    assert 'id="next-page"' in html
    next_query = first.context["next_query"]
    second = carol_client.get(f"/cloud/servers/?{next_query}").content.decode()
    assert second.count('class="server-row"') == 5
    assert 'id="next-page"' not in second
    assert "First page" in second


def test_server_list_filters_by_name_and_status_when_asked(carol, carol_project, carol_client, make_servers):
    make_servers(carol_project, carol, 1)
    Server.objects.filter(project=carol_project).update(name="web.1")
    make_servers(carol_project, carol, 2, vm_state="stopped", power_state="shutdown")
    by_name = carol_client.get("/cloud/servers/?name=WEB.").content.decode()
    assert by_name.count('class="server-row"') == 1 and "web.1" in by_name
    assert carol_client.get("/cloud/servers/?name=eb.1x").content.decode().count('class="server-row"') == 0
    by_status = carol_client.get("/cloud/servers/?status=SHUTOFF").content.decode()
    assert by_status.count('class="server-row"') == 2 and "web.1" not in by_status


def test_server_list_polls_only_when_a_shown_server_is_transitional(carol, carol_project, carol_client, make_servers):
    make_servers(carol_project, carol, 2)
    assert 'hx-trigger="every 3s"' not in carol_client.get("/cloud/servers/").content.decode()
    make_servers(carol_project, carol, 1, task_state="rebooting")
    html = carol_client.get("/cloud/servers/").content.decode()
    assert 'hx-trigger="every 3s"' in html and 'data-status="REBOOT"' in html
    # The partial the poll fetches is the table alone, with the trigger while the server still moves.
    partial = carol_client.get("/cloud/servers/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="results"' in partial and "<html" not in partial and 'hx-trigger="every 3s"' in partial
    Server.objects.filter(project=carol_project).update(task_state=None)
    partial = carol_client.get("/cloud/servers/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 3s"' not in partial


def test_server_list_polls_when_a_server_is_building(carol, carol_project, carol_client, make_servers):
    make_servers(carol_project, carol, 1, vm_state="building", task_state=None, power_state="nostate")
    html = carol_client.get("/cloud/servers/").content.decode()
    assert 'data-status="BUILD"' in html and 'data-polling="true"' in html


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/cloud/servers/").status_code == 200
    return len(captured)


def test_server_list_query_count_is_constant_when_servers_grow(
    carol, carol_project, carol_client, network, make_servers
):
    make_servers(carol_project, carol, 3, network=network)
    few = _list_queries(carol_client)
    make_servers(carol_project, carol, 97, network=network)
    many = _list_queries(carol_client)
    assert few == many, (few, many)
    html = carol_client.get("/cloud/servers/").content.decode()
    assert "10.10.0." in html and "private" in html


def test_server_detail_is_404_when_server_foreign_or_unknown(dave, dave_project, carol_client, make_servers):
    [foreign] = make_servers(dave_project, dave, 1)
    assert carol_client.get(f"/cloud/servers/{foreign.pk}/").status_code == 404
    assert carol_client.get(f"/cloud/servers/{uuid.uuid4()}/").status_code == 404
    assert carol_client.get("/cloud/servers/not-a-uuid/").status_code == 404
    assert carol_client.post(f"/cloud/servers/{foreign.pk}/stop/").status_code == 404
    assert Server.objects.get(pk=foreign.pk).task_state is None


def test_server_detail_shows_flavor_image_addresses_and_console_when_active(boot, carol_client, inline_jobs):
    server = boot("web")
    response = carol_client.get(f"/cloud/servers/{server.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="ACTIVE"' in html
    assert "m1.tiny" in html and "cirros" in html
    assert "10.10.0." in html
    assert 'id="console-link"' in html and "/compute/console?token=" in html and 'target="_blank"' in html
    offered = [spec.slug for _action, spec in response.context["actions"]]
    assert offered == ["stop", "reboot", "reboot-hard", "resize", "delete"]


def test_stop_moves_server_to_shutoff_when_confirmed(boot, carol_client, send, inline_jobs):
    server = boot("web")
    response = send(carol_client.post, f"/cloud/servers/{server.pk}/stop/")
    assert response.status_code == 302
    server.refresh_from_db()
    assert (server.vm_state, server.task_state) == ("stopped", None)
    page = carol_client.get(f"/cloud/servers/{server.pk}/")
    assert [spec.slug for _a, spec in page.context["actions"]] == ["start", "reboot-hard", "resize", "delete"]


def test_action_shows_message_not_500_when_state_forbids_it(boot, carol_client, send, inline_jobs):
    server = boot("web")
    response = send(carol_client.post, f"/cloud/servers/{server.pk}/start/", follow=True)
    assert response.status_code == 200
    assert "Cannot &#x27;start&#x27; instance" in response.content.decode()


def test_action_page_asks_for_confirmation_when_opened(boot, carol_client, inline_jobs):
    server = boot("web")
    page = carol_client.get(f"/cloud/servers/{server.pk}/delete/")
    assert page.status_code == 200
    assert f"Delete {server.name}?" in page.content.decode()
    assert Server.objects.get(pk=server.pk).deleted_at is None
    assert carol_client.get(f"/cloud/servers/{server.pk}/explode/").status_code == 404


def test_resize_then_confirm_changes_flavor_when_chosen(boot, carol_client, send, inline_jobs):
    server = boot("web")
    page = carol_client.get(f"/cloud/servers/{server.pk}/resize/")
    assert "m1.small" in page.content.decode() and 'value="1"' not in page.content.decode()
    response = send(carol_client.post, f"/cloud/servers/{server.pk}/resize/", {"flavor": "2"})
    assert response.status_code == 302
    server.refresh_from_db()
    assert server.vm_state == "resized"
    detail = carol_client.get(f"/cloud/servers/{server.pk}/")
    assert 'data-status="VERIFY_RESIZE"' in detail.content.decode()
    assert "(was m1.tiny)" in detail.content.decode()
    assert [s.slug for _a, s in detail.context["actions"]] == ["confirm-resize", "revert-resize", "delete"]
    send(carol_client.post, f"/cloud/servers/{server.pk}/confirm-resize/")
    server.refresh_from_db()
    assert (server.vm_state, server.flavor_name) == ("active", "m1.small")


def test_resize_is_refused_with_400_when_flavor_missing(boot, carol_client, send, inline_jobs):
    server = boot("web")
    response = send(carol_client.post, f"/cloud/servers/{server.pk}/resize/", {"flavor": "nope"})
    assert response.status_code == 400


def test_delete_removes_server_from_list_when_confirmed(boot, carol_client, send, inline_jobs):
    server = boot("web")
    response = send(carol_client.post, f"/cloud/servers/{server.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/cloud/servers/"
    assert Server.objects.get(pk=server.pk).deleted_at is not None
    assert "web" not in carol_client.get("/cloud/servers/").content.decode().split('id="results"')[1]


def test_server_detail_polls_while_building_when_jobs_pending(boot, carol_client, queued_jobs):
    server = boot("slow")
    html = carol_client.get(f"/cloud/servers/{server.pk}/").content.decode()
    assert 'data-status="BUILD"' in html and 'hx-trigger="every 3s"' in html
    assert 'id="console-link"' not in html


def test_actions_are_403_when_user_is_reader_only(boot, carol_project, inline_jobs, compute_env):
    server = boot("web")
    reader = UserFactory(name="rita")
    assign(reader, carol_project, "reader")
    client = login(reader)
    assert client.get(f"/cloud/servers/{server.pk}/").status_code == 200
    assert 'id="server-actions"' not in client.get(f"/cloud/servers/{server.pk}/").content.decode()
    assert client.post(f"/cloud/servers/{server.pk}/stop/").status_code == 403
    assert client.get("/cloud/servers/new/").status_code == 403


def test_server_list_returns_whole_page_when_htmx_restores_history(carol_client):
    response = carol_client.get("/cloud/servers/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()
