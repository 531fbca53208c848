"""The admin audit log browser: filter by actor, action, result and time range; newest first, paged."""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django import forms
from django.http import HttpRequest, HttpResponse

from portal.models import AuditEvent
from portal.ui.forms import bootstrap
from portal.ui.nav import admin_required, render_page
from portal.ui.tables import configure

PAGE_SIZE = 50


def _action_choices() -> list[tuple[str, str]]:
    """Every action the log holds, for the action drop-down."""
    actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
    return [(action, action) for action in actions]


class AuditEventFilter(django_filters.FilterSet):
    """Filters of the audit page; an empty field does not filter."""

    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label="Actor")
    action = django_filters.ChoiceFilter(choices=_action_choices, empty_label="Any action")
    result = django_filters.ChoiceFilter(choices=AuditEvent.Result.choices, empty_label="Any result")
    since = django_filters.IsoDateTimeFilter(
        field_name="time",
        lookup_expr="gte",
        label="From",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="time",
        lookup_expr="lte",
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "result", "since", "until"]


class AuditEventTable(tables.Table):
    """One row per audit event."""

    time = tables.DateTimeColumn(format="Y-m-d H:i:s")
    result = tables.TemplateColumn(
        '<span class="badge text-bg-{% if record.result == "success" %}success{% else %}danger{% endif %}">'
        "{{ record.result }}</span>"
    )
    actor_name = tables.Column(verbose_name="Actor")
    target_repr = tables.Column(verbose_name="Target")
    project_id = tables.Column(verbose_name="Project id")

    class Meta:
        model = AuditEvent
        fields = ("time", "actor_name", "action", "target_repr", "project_id", "result", "request_id")
        template_name = "django_tables2/bootstrap5-responsive.html"
        attrs = {"class": "table table-sm table-striped align-middle"}
        order_by = ("-time",)
        empty_text = "No events match."


@admin_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Browse the audit log (admins only)."""
    events = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.order_by("-time", "-id"))
    bootstrap(events.form)
    table = configure(request, AuditEventTable(events.qs), per_page=PAGE_SIZE)
    return render_page(request, "portal/audit.html", {"filter": events, "table": table})
