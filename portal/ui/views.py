"""Dashboard home (quota usage per project) and the navbar's project switcher."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from identity.services import quotas
from portal.ui.nav import SESSION_PROJECT, render_page, safe_next, user_projects
from portal.ui.quota_bars import quota_bars


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Quota usage bars (usage, pending, limit) for every project the user belongs to."""
    cards = [{"project": project, "bars": quota_bars(quotas.usage(project))} for project in user_projects(request)]
    return render_page(request, "portal/home.html", {"cards": cards})


@login_required
@require_POST
def switch_project(request: HttpRequest) -> HttpResponse:
    """Make one of the user's projects the current one (kept in the session)."""
    project_id = request.POST.get("project_id", "")
    if not any(project.pk == project_id for project in user_projects(request)):
        raise Http404("No such project.")
    request.session[SESSION_PROJECT] = project_id
    return redirect(safe_next(request, "home"))
