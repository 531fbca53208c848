"""Form helpers for the dashboard: Bootstrap classes on widgets, invalid fields outlined."""

from __future__ import annotations

from typing import Any

from django import forms


def bootstrap(form: forms.BaseForm) -> forms.BaseForm:
    """Give every widget of `form` the Bootstrap 5 class that fits it."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        existing = widget.attrs.get("class", "")
        widget.attrs["class"] = f"{existing} {css}".strip()
    return form


class BootstrapFormMixin:
    """Mixed into a form: its widgets get Bootstrap classes when it is built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)  # type: ignore[arg-type]

    def add_error(self, field: str | None, error: Any) -> None:
        """Record the error and mark the field's widget as invalid (red outline)."""
        super().add_error(field, error)  # type: ignore[misc]
        fields = self.fields  # type: ignore[attr-defined]
        names = list(error) if isinstance(error, dict) else [field]
        for name in names:
            if name in fields:
                widget = fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
