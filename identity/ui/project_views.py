"""My projects, a project's members and quotas, and applying for a new project."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from identity.models import ProjectApplication, RoleAssignment
from identity.quota_models import Resource
from identity.services import applications, quotas
from identity.ui.forms import ApplicationForm
from portal.errors import DomainError
from portal.ui.nav import member_projects, render_page
from portal.ui.quota_bars import quota_bars


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects I have a role on, with member counts and my roles."""
    projects = member_projects(request.user).annotate(member_count=Count("assignments__user", distinct=True))
    my_roles: dict[str, list[str]] = {}
    for project_id, role in (
        RoleAssignment.objects.filter(user=request.user).order_by("role__name").values_list("project_id", "role__name")
    ):
        my_roles.setdefault(project_id, []).append(role)
    rows = [{"project": project, "roles": my_roles.get(project.pk, [])} for project in projects]
    return render_page(request, "identity/project_list.html", {"rows": rows})


@login_required
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    """A project's members (with their roles), its quotas and my own share of them."""
    project = get_object_or_404(member_projects(request.user), pk=project_id)
    members: dict[str, dict] = {}
    assignments = (
        RoleAssignment.objects.filter(project=project)
        .select_related("user", "role")
        .order_by("user__name", "role__name")
    )
    for assignment in assignments:
        entry = members.setdefault(assignment.user_id, {"user": assignment.user, "roles": []})
        entry["roles"].append(assignment.role.name)
    context = {
        "project": project,
        "members": list(members.values()),
        "bars": quota_bars(quotas.usage(project)),
        "my_bars": quota_bars(quotas.user_usage(project, request.user)),
    }
    return render_page(request, "identity/project_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    """Apply for a new project (name, description, limits) and follow my applications."""
    resources = list(Resource.objects.order_by("name"))
    form = ApplicationForm(request.POST or None, resources=resources)
    if request.method == "POST" and form.is_valid():
        try:
            app = applications.submit_application(
                request.user,
                form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                requested_limits=form.limits(),
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error("name" if "name" in exc.message.lower() else None, exc.message)
        else:
            messages.success(request, f"Your application for {app.name} was sent to the administrators.")
            return redirect("project_apply")
    mine = ProjectApplication.objects.filter(applicant=request.user).select_related("project", "decided_by")
    return render_page(request, "identity/apply.html", {"form": form, "applications": mine})


@login_required
@require_POST
def cancel_application(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw one of my pending applications."""
    app = get_object_or_404(ProjectApplication, pk=pk, applicant=request.user)
    try:
        applications.cancel_application(app, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Your application for {app.name} was cancelled.")
    return redirect("project_apply")
