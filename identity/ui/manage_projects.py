"""Admin pages for projects and applications: project table, quota editor, approve / deny."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, Count, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from identity.models import Project, ProjectApplication
from identity.quota_models import Resource
from identity.services import applications, quotas
from identity.ui.filters import ApplicationFilter, ProjectFilter
from identity.ui.forms import DenyForm, QuotaForm
from identity.ui.tables import ApplicationTable, ProjectTable
from portal.errors import DomainError
from portal.ui.forms import bootstrap
from portal.ui.nav import admin_required, render_page
from portal.ui.quota_bars import quota_bars
from portal.ui.tables import configure


@admin_required
def project_list(request: HttpRequest) -> HttpResponse:
    """All projects with their member counts, filtered by name, 25 a page."""
    projects = Project.objects.annotate(member_count=Count("assignments__user", distinct=True)).order_by("name")
    project_filter = ProjectFilter(request.GET or None, queryset=projects)
    bootstrap(project_filter.form)
    table = configure(request, ProjectTable(project_filter.qs, request=request))
    return render_page(request, "identity/manage/projects.html", {"filter": project_filter, "table": table})


@admin_required
@require_http_methods(["GET", "POST"])
def project_quotas(request: HttpRequest, project_id: str) -> HttpResponse:
    """Edit a project's limit of each resource (changed limits only are written)."""
    project = get_object_or_404(Project, pk=project_id)
    rows = quotas.usage(project)
    current = {row["resource"]: row["limit"] for row in rows}
    resources = list(Resource.objects.order_by("name"))
    form = QuotaForm(request.POST or None, resources=resources, current=current)
    if request.method == "POST" and form.is_valid():
        changed = {name: limit for name, limit in form.limits().items() if current.get(name) != limit}
        try:
            for name, limit in changed.items():
                quotas.set_limit(project, name, limit, actor=request.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if changed:
                summary = ", ".join(f"{name} = {limit}" for name, limit in changed.items())
                messages.success(request, f"Limits of {project.name} updated: {summary}.")
            else:
                messages.info(request, "No limit was changed.")
            return redirect("manage_project_quotas", project_id=project.pk)
    context = {"project": project, "form": form, "bars": quota_bars(rows)}
    return render_page(request, "identity/manage/project_quotas.html", context)


def applications_pending_first() -> QuerySet[ProjectApplication]:
    """Applications with who applied and decided, pending ones first, newest first within each group."""
    pending_first = Case(When(state=ProjectApplication.State.PENDING, then=Value(0)), default=Value(1))
    return (
        ProjectApplication.objects.select_related("applicant", "decided_by", "project")
        .annotate(pending_first=pending_first)
        .order_by("pending_first", "-created_at")
    )


@admin_required
def application_list(request: HttpRequest) -> HttpResponse:
    """Project applications, pending first, with approve and deny actions."""
    app_filter = ApplicationFilter(request.GET or None, queryset=applications_pending_first())
    bootstrap(app_filter.form)
    table = configure(request, ApplicationTable(app_filter.qs, request=request))
    return render_page(request, "identity/manage/applications.html", {"filter": app_filter, "table": table})


@admin_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve an application: the project is created with the requested limits."""
    app = get_object_or_404(ProjectApplication, pk=pk)
    try:
        applications.approve_application(app, actor=request.user)
    except DomainError as exc:
        messages.error(request, f"Could not approve {app.name}: {exc.message}")
    else:
        messages.success(request, f"Approved: project {app.name} was created for {app.applicant.name}.")
    return redirect("manage_applications")


@admin_required
@require_http_methods(["GET", "POST"])
def deny(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for a reason, then deny an application."""
    app = get_object_or_404(ProjectApplication.objects.select_related("applicant"), pk=pk)
    form = DenyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            applications.deny_application(app, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, f"Could not deny {app.name}: {exc.message}")
        else:
            messages.success(request, f"Denied the application for {app.name}.")
        return redirect("manage_applications")
    return render_page(request, "identity/manage/deny.html", {"application": app, "form": form})
