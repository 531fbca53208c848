"""Forms and read helpers of the volume pages: create, extend, attach; how a volume row looks.

A volume is transitional while a backend job runs for it: exactly the statuses whose job end
`compute.volume.states.COMPLETION` describes (attaching, detaching, deleting). Which buttons a
volume offers comes from the state table too (`TRANSITIONS`), never from a copied status list.
"""

from __future__ import annotations

from typing import Any

from django import forms

from compute.models import Server
from compute.ui.forms import bootable_images
from compute.volume.models import Volume, VolumeType
from compute.volume.services.attachments import READY
from compute.volume.services.types import default_type
from compute.volume.services.volumes import MAX_SIZE_GIB
from compute.volume.states import COMPLETION, TRANSITIONS, Action
from identity.models import Project
from identity.tokens import TokenContext
from portal.ui.forms import BootstrapFormMixin

TRANSITIONAL = frozenset(COMPLETION)
BADGES = {"available": "success", "in-use": "primary", "error": "danger", "error_deleting": "danger"}
CHOICE_LIMIT = 200


def allowed(action: Action, status: str) -> bool:
    """Whether the state table lets a volume in `status` take `action`."""
    return status in TRANSITIONS[action][0]


class VolumeView:
    """A volume row with what the templates show (status badge, polling, buttons)."""

    def __init__(self, row: Volume) -> None:
        self.row = row
        self.transitional = row.status in TRANSITIONAL
        self.badge = "info" if self.transitional else BADGES.get(row.status, "secondary")
        self.can_attach = allowed(Action.ATTACH, row.status)
        self.can_detach = allowed(Action.DETACH, row.status) and row.server_id is not None
        # Ganeti grows a disk only through its instance: a volume that was attached once cannot grow.
        self.can_extend = allowed(Action.EXTEND, row.status) and not row.materialised
        self.can_delete = allowed(Action.DELETE, row.status)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def volume_types() -> list[VolumeType]:
    """The public volume types, the default first (seeded on first use)."""
    default_type()
    return list(VolumeType.objects.filter(is_public=True).order_by("-is_default", "name"))


def attachable_servers(project: Project) -> list[Server]:
    """Servers of the project that can take a volume now (running or stopped, no task)."""
    rows = Server.objects.for_project(project.pk).live().filter(vm_state__in=READY, task_state__isnull=True)
    return list(rows.order_by("name", "created_at")[:CHOICE_LIMIT])


def available_volumes(project: Project) -> list[Volume]:
    """Volumes of the project that can be attached now."""
    rows = Volume.objects.for_project(project.pk).filter(status__in=TRANSITIONS[Action.ATTACH][0])
    return list(rows.order_by("name", "created_at")[:CHOICE_LIMIT])


class VolumeCreateForm(BootstrapFormMixin, forms.Form):
    """A new volume: name, size, type, and optionally the image it is made from."""

    name = forms.CharField(max_length=255, required=False, label="Name")
    size = forms.IntegerField(min_value=1, max_value=MAX_SIZE_GIB, initial=1, label="Size (GiB)")
    volume_type = forms.ChoiceField(label="Type")
    image = forms.ChoiceField(required=False, label="Image (optional)")
    description = forms.CharField(max_length=255, required=False, label="Description")

    def __init__(self, *args: Any, ctx: TokenContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volume_type"].choices = [
            (str(t.pk), f"{t.name} — {t.description}" if t.description else t.name) for t in volume_types()
        ]
        self.fields["image"].choices = [("", "None (a blank volume)")] + [
            (i.pk, i.name or i.pk) for i in bootable_images(ctx)
        ]


class ExtendForm(BootstrapFormMixin, forms.Form):
    """The new, larger size."""

    new_size = forms.IntegerField(min_value=1, max_value=MAX_SIZE_GIB, label="New size (GiB)")


class AttachForm(forms.Form):
    """Which volume goes to which server (from the volume page or the server page)."""

    volume = forms.UUIDField()
    server = forms.UUIDField()
    next = forms.CharField(required=False)
