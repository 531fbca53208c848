"""Admin pages for users: a filtered, paged table with activate / disable / enable actions."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from identity.models import User
from identity.services import users
from identity.ui.filters import UserFilter
from identity.ui.tables import UserTable
from portal.errors import DomainError
from portal.ui.forms import bootstrap
from portal.ui.nav import admin_required, render_page, safe_next
from portal.ui.tables import configure

# action -> (statuses it applies to, status it sets)
STATUS_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({User.Status.PENDING}), User.Status.ACTIVE),
    "disable": (frozenset({User.Status.ACTIVE}), User.Status.DISABLED),
    "enable": (frozenset({User.Status.DISABLED}), User.Status.ACTIVE),
}


def users_for_table() -> QuerySet[User]:
    """Users with what the table shows, in a fixed number of queries whatever the page size."""
    return (
        User.objects.select_related("default_project")
        .annotate(project_count=Count("assignments__project", distinct=True))
        .order_by("name")
    )


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    """All users, filtered by status and name, 25 a page."""
    user_filter = UserFilter(request.GET or None, queryset=users_for_table())
    bootstrap(user_filter.form)
    table = configure(request, UserTable(user_filter.qs, request=request))
    pending = User.objects.filter(status=User.Status.PENDING).count()
    return render_page(
        request, "identity/manage/users.html", {"filter": user_filter, "table": table, "pending": pending}
    )


def _apply(request: HttpRequest, target: User, action: str) -> tuple[bool, str]:
    """Run a status action; return whether it worked and what to tell the admin."""
    allowed, new_status = STATUS_ACTIONS[action]
    if target.status not in allowed:
        return False, f"{target.name} is {target.status}: cannot {action}."
    if target.pk == request.user.pk and new_status == User.Status.DISABLED:
        return False, "You cannot disable your own account."
    try:
        users.set_status(target, new_status, actor=request.user)
    except DomainError as exc:
        return False, exc.message
    verb = {"activate": "activated", "disable": "disabled", "enable": "enabled"}[action]
    return True, f"{target.name} was {verb}."


@admin_required
@require_POST
def user_status(request: HttpRequest, user_id: str, action: str) -> HttpResponse:
    """Activate, disable or enable a user; htmx requests get the user's table row back."""
    if action not in STATUS_ACTIONS:
        raise Http404("Unknown action.")
    target = get_object_or_404(User, pk=user_id)
    ok, text = _apply(request, target, action)
    if request.htmx:
        table = UserTable(users_for_table().filter(pk=target.pk), request=request)
        context = {"row": table.rows[0], "ok": ok, "text": text}
        return render(request, "identity/manage/_user_row.html", context)
    (messages.success if ok else messages.error)(request, text)
    return redirect(safe_next(request, "manage_users"))
