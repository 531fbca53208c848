"""Dashboard forms for identity: login, sign-up, password, applications, credentials, quotas."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from identity.models import DEFAULT_DOMAIN_ID, User
from identity.quota_models import Resource
from identity.services.quotas import MAX_QUANTITY
from portal.ui.forms import BootstrapFormMixin
from portal.ui.quota_bars import BYTE_UNITS, format_quantity

LIMIT_PREFIX = "limit__"

STATUS_MESSAGES = {
    User.Status.PENDING: "Your account is waiting for an administrator to activate it.",
    User.Status.DISABLED: "Your account has been disabled. Please contact an administrator.",
}


class LoginForm(BootstrapFormMixin, AuthenticationForm):
    """Name and password; pending and disabled users are told why they cannot sign in."""

    def clean(self) -> dict[str, Any]:
        """Authenticate; for a right password on an inactive account, say so instead of "wrong password"."""
        try:
            return super().clean()
        except ValidationError:
            name = self.cleaned_data.get("username")
            password = self.cleaned_data.get("password")
            user = User.objects.filter(domain_id=DEFAULT_DOMAIN_ID, name=name).first() if name else None
            # The status is only revealed to someone who knows the password.
            if user is not None and user.status in STATUS_MESSAGES and user.check_password(password or ""):
                raise ValidationError(STATUS_MESSAGES[user.status], code="inactive") from None
            raise


class PasswordPairMixin:
    """Two password fields that must match; the rules themselves are checked by the user service."""

    first_field = "password1"
    second_field = "password2"

    def clean(self) -> dict[str, Any]:
        """Check that both passwords are the same."""
        data = super().clean()  # type: ignore[misc]
        first, second = data.get(self.first_field), data.get(self.second_field)
        if first and second and first != second:
            self.add_error(self.second_field, "The two passwords do not match.")  # type: ignore[attr-defined]
        return data


class SignupForm(BootstrapFormMixin, PasswordPairMixin, forms.Form):
    """Self-service sign-up: a name, an email address and a password given twice."""

    name = forms.CharField(max_length=255, help_text="Your login name.")
    email = forms.EmailField()
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class PasswordChangeForm(BootstrapFormMixin, PasswordPairMixin, forms.Form):
    """Change one's own password: the current one, then the new one twice."""

    first_field = "new_password1"
    second_field = "new_password2"

    old_password = forms.CharField(
        label="Current password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label="New password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label="New password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


def _limit_field(resource: Resource, initial: int | None) -> forms.IntegerField:
    unit = f" ({resource.unit})" if resource.unit else ""
    help_text = resource.name
    if resource.unit.lower() in BYTE_UNITS and initial is not None:
        help_text += f" · now {format_quantity(initial, resource.unit)}"
    return forms.IntegerField(
        label=f"{resource.description or resource.name}{unit}",
        help_text=help_text,
        min_value=0,
        max_value=MAX_QUANTITY,
        initial=initial,
    )


class LimitsMixin:
    """One integer field per declared quota resource, named `limit__<resource>`."""

    def add_limit_fields(self, resources: list[Resource], initial: dict[str, int | None]) -> None:
        """Add the fields, in resource order, with their initial limits."""
        for resource in resources:
            self.fields[LIMIT_PREFIX + resource.name] = _limit_field(  # type: ignore[attr-defined]
                resource, initial.get(resource.name)
            )

    def limit_fields(self) -> list[forms.BoundField]:
        """The bound limit fields, for the template."""
        return [self[name] for name in self.fields if name.startswith(LIMIT_PREFIX)]  # type: ignore[attr-defined]

    def limits(self) -> dict[str, int]:
        """Resource name -> limit, from cleaned data."""
        return {
            name.removeprefix(LIMIT_PREFIX): value
            for name, value in self.cleaned_data.items()  # type: ignore[attr-defined]
            if name.startswith(LIMIT_PREFIX) and value is not None
        }


class ApplicationForm(BootstrapFormMixin, LimitsMixin, forms.Form):
    """Apply for a new project: its name, what it is for, and the limits it needs."""

    name = forms.CharField(max_length=255, label="Project name")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, resources: list[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_limit_fields(resources, {r.name: r.default_project_limit for r in resources})
        for field in self.limit_fields():
            self.fields[field.name].widget.attrs["class"] = "form-control"


class QuotaForm(BootstrapFormMixin, LimitsMixin, forms.Form):
    """A project's limit per resource (admins)."""

    def __init__(self, *args: Any, resources: list[Resource], current: dict[str, int | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_limit_fields(resources, current)
        for field in self.limit_fields():
            self.fields[field.name].widget.attrs["class"] = "form-control"


class AppCredentialForm(BootstrapFormMixin, forms.Form):
    """A new application credential for the current project."""

    name = forms.CharField(max_length=255)
    description = forms.CharField(max_length=1000, required=False)
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at (UTC)",
        help_text="Leave empty for a credential that does not expire.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class DenyForm(BootstrapFormMixin, forms.Form):
    """Why an application is denied (shown to the applicant)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
