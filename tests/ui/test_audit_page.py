"""The audit log browser: filters by actor, action, result and time range; newest first; paged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(portal_setup) -> None:
    """Three events a day apart, the oldest first, plus one failure."""
    now = timezone.now()
    AuditEvent.objects.create(time=now - timedelta(days=2), actor_name="alice", action="user.signup", target_repr="t1")
    AuditEvent.objects.create(time=now - timedelta(days=1), actor_name="root", action="user.activate", target_repr="t2")
    AuditEvent.objects.create(time=now, actor_name="alice", action="app_credential.create", target_repr="t3")
    AuditEvent.objects.create(
        time=now, actor_name="mallory", action="auth.password", result=AuditEvent.Result.FAILURE, target_repr="t4"
    )


def _targets(client, query: str = "") -> list[str]:
    response = client.get(f"/manage/audit/{query}")
    assert response.status_code == 200
    return [row.record.target_repr for row in response.context["table"].page.object_list if row.record.target_repr]


def test_audit_lists_newest_first_when_unfiltered(staff_client, events):
    targets = _targets(staff_client)
    assert targets.index("t3") < targets.index("t2") < targets.index("t1")


def test_audit_filters_by_actor_when_given(staff_client, events):
    assert sorted(_targets(staff_client, "?actor=ALI")) == ["t1", "t3"]


def test_audit_filters_by_action_when_given(staff_client, events):
    assert _targets(staff_client, "?action=user.activate") == ["t2"]


def test_audit_filters_by_result_when_given(staff_client, events):
    assert _targets(staff_client, "?result=failure") == ["t4"]


def test_audit_filters_by_time_range_when_given(staff_client, events):
    now = timezone.now()
    since = (now - timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    until = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert _targets(staff_client, f"?since={since}&until={until}") == ["t2"]


def test_audit_shows_error_when_action_unknown(staff_client, events):
    response = staff_client.get("/manage/audit/?action=no.such")
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_audit_pages_when_many_events(staff_client, portal_setup):
    AuditEvent.objects.bulk_create(AuditEvent(action="bulk.event", target_repr=f"e{n:03d}") for n in range(120))
    response = staff_client.get("/manage/audit/?action=bulk.event&page=3")
    assert response.status_code == 200
    table = response.context["table"]
    assert table.paginator.num_pages == 3
    assert len(table.page.object_list) == 20
    assert staff_client.get("/manage/audit/?page=99").status_code == 200


def test_audit_records_admin_actions_when_made_through_dashboard(staff_client, alice):
    staff_client.post(f"/manage/users/{alice.pk}/disable/")
    assert "alice" in _targets(staff_client, "?action=user.disabled&actor=operator")
