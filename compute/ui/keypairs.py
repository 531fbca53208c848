"""Key pair pages: the user's key pairs (Nova's rule: they belong to the user, not the project),
import a public key, generate a pair (the private key is shown once, never stored), delete."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from compute.models import Keypair
from compute.services import keypairs
from portal.errors import DomainError, NotFound
from portal.ui.forms import BootstrapFormMixin
from portal.ui.nav import render_page


class KeypairForm(BootstrapFormMixin, forms.Form):
    """A key pair name and, to import, an OpenSSH public key (empty: generate a new pair)."""

    name = forms.CharField(max_length=255, label="Name")
    public_key = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ssh-ed25519 AAAA... (leave empty to generate)"}),
        label="Public key",
    )


@login_required
@require_GET
def keypair_list(request: HttpRequest) -> HttpResponse:
    """The user's key pairs and the import/generate form."""
    rows = Keypair.objects.for_user(request.user.pk).order_by("name")
    return render_page(request, "compute/keypairs.html", {"keypairs": rows, "form": KeypairForm()})


@login_required
@require_POST
@never_cache
def keypair_create(request: HttpRequest) -> HttpResponse:
    """Import the given public key, or generate a pair and show its private key once."""
    form = KeypairForm(request.POST)
    if form.is_valid():
        public_key = form.cleaned_data["public_key"].strip() or None
        try:
            keypair, private = keypairs.create_keypair(
                request.user.pk, form.cleaned_data["name"], public_key=public_key, actor=request.user
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if private is None:
                messages.success(request, f"Key pair {keypair.name} was imported.")
                return redirect("cloud_keypairs")
            return render_page(request, "compute/keypair_created.html", {"keypair": keypair, "private_key": private})
    rows = Keypair.objects.for_user(request.user.pk).order_by("name")
    return render_page(request, "compute/keypairs.html", {"keypairs": rows, "form": form}, status=400)


@login_required
@require_POST
def keypair_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Delete one of the user's key pairs (servers keep the key they were built with)."""
    try:
        keypair = keypairs.get_keypair(request.user.pk, name)
    except NotFound as exc:
        raise Http404("No such key pair") from exc
    keypairs.delete_keypair(keypair, actor=request.user)
    messages.success(request, f"Key pair {name} was deleted.")
    return redirect("cloud_keypairs")
