"""django-tables2 tables of the admin pages: users, projects, project applications."""

from __future__ import annotations

import django_tables2 as tables

from identity.models import Project, ProjectApplication, User

TABLE_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}


class UserTable(tables.Table):
    """Users with their status, project count and status actions."""

    name = tables.Column()
    status = tables.TemplateColumn(template_name="identity/manage/_user_status.html")
    project_count = tables.Column(verbose_name="Projects")
    default_project = tables.Column(verbose_name="Personal project", accessor="default_project__name")
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Signed up")
    actions = tables.TemplateColumn(
        template_name="identity/manage/_user_actions.html", orderable=False, verbose_name="", exclude_from_export=True
    )

    class Meta:
        model = User
        fields = ("name", "email", "status", "is_staff", "project_count", "default_project", "created_at")
        template_name = TABLE_TEMPLATE
        attrs = TABLE_ATTRS
        row_attrs = {"id": lambda record: f"user-{record.pk}"}
        empty_text = "No users match."


class ProjectTable(tables.Table):
    """Projects with their member count and a link to their quota editor."""

    name = tables.LinkColumn("manage_project_quotas", args=[tables.A("pk")])
    member_count = tables.Column(verbose_name="Members")
    enabled = tables.BooleanColumn()
    created_at = tables.DateTimeColumn(format="Y-m-d H:i")
    quotas = tables.LinkColumn(
        "manage_project_quotas", args=[tables.A("pk")], text="Edit quotas", orderable=False, verbose_name=""
    )

    class Meta:
        model = Project
        fields = ("name", "description", "member_count", "enabled", "created_at")
        template_name = TABLE_TEMPLATE
        attrs = TABLE_ATTRS
        empty_text = "No projects match."


class ApplicationTable(tables.Table):
    """Project applications, pending ones first, with approve and deny actions."""

    applicant = tables.Column(accessor="applicant__name", verbose_name="Applicant")
    state = tables.TemplateColumn(template_name="identity/manage/_application_state.html")
    requested_limits = tables.TemplateColumn(
        template_name="identity/manage/_application_limits.html", orderable=False, verbose_name="Requested limits"
    )
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Submitted")
    decided_by = tables.Column(accessor="decided_by__name", verbose_name="Decided by", default="")
    actions = tables.TemplateColumn(
        template_name="identity/manage/_application_actions.html", orderable=False, verbose_name=""
    )

    class Meta:
        model = ProjectApplication
        fields = ("name", "applicant", "description", "requested_limits", "state", "created_at", "decided_by")
        template_name = TABLE_TEMPLATE
        attrs = TABLE_ATTRS
        row_attrs = {"id": lambda record: f"application-{record.pk}"}
        empty_text = "No applications."
