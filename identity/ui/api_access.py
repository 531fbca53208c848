"""The API access page: service endpoints of the current project, clouds.yaml and openrc.sh
downloads, and the user's application credentials (create, show the secret once, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from identity.models import ApplicationCredential, Endpoint, Project
from identity.services import app_credentials, catalog
from identity.ui import client_config
from identity.ui.forms import AppCredentialForm
from portal.errors import DomainError
from portal.ui.nav import current_project, render_page


def _base(request: HttpRequest) -> str:
    """The public base URL clients should use (PORTAL_PUBLIC_URL, else this request's host)."""
    return catalog.public_url(request.build_absolute_uri("/"))


def _project_or_404(request: HttpRequest) -> Project:
    project = current_project(request)
    if project is None:
        raise Http404("You are not a member of any project yet.")
    return project


def _page(request: HttpRequest, form: AppCredentialForm, *, status: int = 200) -> HttpResponse:
    """Render the API access page with this credential form."""
    project = current_project(request)
    base = _base(request)
    endpoints = []
    if project is not None:
        for service in catalog.catalog_for(project.pk, base):
            for endpoint in service["endpoints"]:
                if endpoint["interface"] == Endpoint.Interface.PUBLIC:
                    endpoints.append({"type": service["type"], "name": service["name"], **endpoint})
    credentials = (
        ApplicationCredential.objects.filter(user=request.user)
        .select_related("project")
        .prefetch_related("roles")
        .order_by("project__name", "name")
    )
    context = {
        "project": project,
        "endpoints": sorted(endpoints, key=lambda e: e["type"]),
        "auth_url": client_config.auth_url(base),
        "cloud_name": client_config.cloud_name(project) if project is not None else "",
        "credentials": credentials,
        "form": form,
        "now": timezone.now(),
    }
    return render_page(request, "identity/api_access.html", context, status=status)


@login_required
def api_access(request: HttpRequest) -> HttpResponse:
    """Endpoints, client configuration downloads and application credentials."""
    return _page(request, AppCredentialForm())


def _download(content: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def clouds_yaml(request: HttpRequest) -> HttpResponse:
    """clouds.yaml for the current project (no password in it)."""
    project = _project_or_404(request)
    content = client_config.clouds_yaml(request.user, project, _base(request))
    return _download(content, "clouds.yaml", "application/yaml")


@login_required
def openrc(request: HttpRequest) -> HttpResponse:
    """openrc.sh for the current project; it asks for the password when sourced."""
    project = _project_or_404(request)
    content = client_config.openrc(request.user, project, _base(request))
    return _download(content, "openrc.sh", "text/x-shellscript")


@never_cache
@login_required
@require_POST
def create_credential(request: HttpRequest) -> HttpResponse:
    """Create an application credential on the current project and show its secret, this once."""
    project = _project_or_404(request)
    form = AppCredentialForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        cred, secret = app_credentials.create_app_credential(
            request.user,
            project,
            form.cleaned_data["name"],
            actor=request.user,
            description=form.cleaned_data["description"],
            expires_at=form.cleaned_data["expires_at"],
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _page(request, form, status=400)
    context = {
        "credential": cred,
        "secret": secret,
        "snippet": client_config.app_credential_yaml(cred, secret, _base(request)),
    }
    return render_page(request, "identity/credential_created.html", context)


@login_required
@require_POST
def delete_credential(request: HttpRequest, credential_id: str) -> HttpResponse:
    """Delete one of my application credentials (tokens it issued are revoked)."""
    cred = get_object_or_404(ApplicationCredential, pk=credential_id, user=request.user)
    app_credentials.delete_app_credential(cred, actor=request.user)
    messages.success(request, f"Application credential {cred.name} was deleted.")
    return redirect("api_access")
