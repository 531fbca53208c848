"""Dashboard forms of the file browser: new container, new folder, sharing."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from objectstore import limits
from portal.ui.forms import BootstrapFormMixin


class ContainerForm(BootstrapFormMixin, forms.Form):
    """A new container's name (no slash, at most 256 bytes)."""

    name = forms.CharField(max_length=limits.MAX_CONTAINER_NAME_LENGTH, label="Container name")

    def clean_name(self) -> str:
        """Reject slashes, NUL and names longer than Swift allows in bytes."""
        name = self.cleaned_data["name"].strip()
        if "/" in name or "\x00" in name:
            raise ValidationError("A container name cannot contain '/'.")
        if len(name.encode()) > limits.MAX_CONTAINER_NAME_LENGTH:
            raise ValidationError("The name is too long.")
        return name


class FolderForm(BootstrapFormMixin, forms.Form):
    """A new folder under the current prefix."""

    prefix = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=255, label="Folder name")

    def clean_name(self) -> str:
        """A single path segment."""
        name = self.cleaned_data["name"].strip().strip("/")
        if not name or "/" in name or "\x00" in name:
            raise ValidationError("A folder name is one segment without '/'.")
        return name


class ShareForm(BootstrapFormMixin, forms.Form):
    """Who may read and who may write an object: user names and `group:<name>`, comma-separated."""

    name = forms.CharField(widget=forms.HiddenInput)
    read = forms.CharField(required=False, max_length=4096, help_text="Users or group:name, comma-separated.")
    write = forms.CharField(required=False, max_length=4096, help_text="Write access includes read access.")

    def sharing_header(self) -> str:
        """The equivalent `X-Object-Sharing` value."""
        parts = []
        for key in ("read", "write"):
            value = ",".join(ref.strip() for ref in self.cleaned_data[key].split(",") if ref.strip())
            if value:
                parts.append(f"{key}={value}")
        return ";".join(parts)
