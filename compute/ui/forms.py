"""Forms of the server pages: the list filter, resize, and the create wizard."""

from __future__ import annotations

from typing import Any

from django import forms

from compute.image.models import Image
from compute.image.states import Status as ImageStatus
from compute.models import Flavor, Keypair
from compute.network.models import Network
from compute.services import flavors as flavor_service
from compute.services.states import STATUS
from identity.models import Project
from identity.tokens import TokenContext
from portal.ui.forms import BootstrapFormMixin

MAX_COUNT = 10
AUTO_NETWORK = "auto"
NO_NETWORK = "none"
# Every status a live server can show (deleted servers are never listed here).
SHOWN_STATUSES = sorted({s for tasks in STATUS.values() for s in tasks.values()} - {"DELETED"})


class ServerFilterForm(BootstrapFormMixin, forms.Form):
    """The servers list filter: a part of the name, one status."""

    name = forms.CharField(required=False, max_length=255, label="Name contains")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status")] + [(s, s) for s in SHOWN_STATUSES], label="Status"
    )


def flavor_label(flavor: Flavor) -> str:
    """`m1.small — 1 vCPU, 2048 MiB RAM, 20 GiB disk`."""
    return f"{flavor.name} — {flavor.vcpus} vCPU, {flavor.ram} MiB RAM, {flavor.disk} GiB disk"


def usable_flavors(ctx: TokenContext) -> list[Flavor]:
    """The enabled flavors the project may use, smallest first."""
    return list(flavor_service.visible(ctx).filter(disabled=False).order_by("vcpus", "ram", "disk", "name"))


class ResizeForm(BootstrapFormMixin, forms.Form):
    """The flavor a server moves to (every other usable flavor)."""

    flavor = forms.ChoiceField(label="New flavor")

    def __init__(self, *args: Any, ctx: TokenContext, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["flavor"].choices = [(f.pk, flavor_label(f)) for f in usable_flavors(ctx) if f.pk != current]


def bootable_images(ctx: TokenContext) -> list[Image]:
    """Active images the project may boot (its own, public, and shared ones), by name."""
    rows = Image.objects.visible_to(ctx).filter(status=ImageStatus.ACTIVE, os_hidden=False)
    return list(rows.order_by("name", "created_at")[:500])


def attachable_networks(project: Project) -> list[Network]:
    """Networks a server of the project may join: its own and shared ones (external ones are refused)."""
    mine = Network.objects.filter(project=project, external=False)
    shared = Network.objects.filter(shared=True, external=False).exclude(project=project)
    return list(mine.order_by("name", "created_at")) + list(shared.order_by("name", "created_at"))


class ServerCreateForm(BootstrapFormMixin, forms.Form):
    """The create wizard: name, how many, image, flavor, network, key pair."""

    name = forms.CharField(max_length=255, label="Name")
    count = forms.IntegerField(min_value=1, max_value=MAX_COUNT, initial=1, label="How many")
    image = forms.ChoiceField(label="Image")
    flavor = forms.ChoiceField(label="Flavor")
    network = forms.ChoiceField(label="Network")
    key_name = forms.ChoiceField(required=False, label="Key pair")

    def __init__(self, *args: Any, ctx: TokenContext, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["image"].choices = [(i.pk, i.name or i.pk) for i in bootable_images(ctx)]
        self.fields["flavor"].choices = [(f.pk, flavor_label(f)) for f in usable_flavors(ctx)]
        networks = [(str(n.pk), n.name or str(n.pk)) for n in attachable_networks(project)]
        self.fields["network"].choices = [
            *networks,
            (AUTO_NETWORK, "A private network made for the project (auto)"),
            (NO_NETWORK, "No network"),
        ]
        keys = Keypair.objects.for_user(ctx.user_id).order_by("name").values_list("name", flat=True)
        self.fields["key_name"].choices = [("", "No key pair")] + [(k, k) for k in keys]

    def networks_value(self) -> list[dict[str, str]] | str:
        """Nova's `networks` value for the chosen network."""
        chosen = self.cleaned_data["network"]
        return chosen if chosen in (AUTO_NETWORK, NO_NETWORK) else [{"uuid": chosen}]
