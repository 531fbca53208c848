"""Forms of the cluster admin pages: the options of each confirmed action, and the job filters."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from backend_ganeti import selectors
from backend_ganeti.models import Cluster, Instance, Job, Node
from portal.ui.forms import BootstrapFormMixin

EVACUATE_MODES = [
    ("all", "All instances (primary and secondary)"),
    ("primary-only", "Primary instances only"),
    ("secondary-only", "Secondary instances only"),
]


class ActionForm(BootstrapFormMixin, forms.Form):
    """The options of an action on `target` (a cluster, node or instance); none by default."""

    def __init__(self, *args: Any, target: Any, **kwargs: Any) -> None:
        self.target = target
        super().__init__(*args, **kwargs)

    def options(self) -> dict[str, Any]:
        """The cleaned options, as the service takes them."""
        return dict(self.cleaned_data)


def _node_choices(instance: Instance, blank: str) -> list[tuple[str, str]]:
    """Other usable nodes of the instance's cluster, after a 'let the cluster choose' entry."""
    names = (
        Node.objects.filter(cluster_id=instance.cluster_id, offline=False, drained=False, vm_capable=True)
        .exclude(name=instance.primary_node)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return [("", blank), *((name, name) for name in names)]


class MigrateForm(ActionForm):
    """Target node (optional) and live or not."""

    target_node = forms.ChoiceField(required=False, label="Target node")
    live = forms.BooleanField(required=False, initial=True, label="Live migration (the guest keeps running)")

    def __init__(self, *args: Any, target: Instance, **kwargs: Any) -> None:
        super().__init__(*args, target=target, **kwargs)
        secondary = ", ".join(target.secondary_nodes) or "the allocator's choice"
        self.fields["target_node"].choices = _node_choices(target, f"Let the cluster choose ({secondary})")

    def options(self) -> dict[str, Any]:
        return {"target_node": self.cleaned_data["target_node"] or None, "live": self.cleaned_data["live"]}


class FailoverForm(ActionForm):
    """Target node (optional; only shared-storage templates may pick one)."""

    target_node = forms.ChoiceField(required=False, label="Target node")

    def __init__(self, *args: Any, target: Instance, **kwargs: Any) -> None:
        super().__init__(*args, target=target, **kwargs)
        self.fields["target_node"].choices = _node_choices(target, "The secondary node")

    def options(self) -> dict[str, Any]:
        return {"target_node": self.cleaned_data["target_node"] or None}


class StopForm(ActionForm):
    """How long to wait for a clean shutdown."""

    timeout = forms.IntegerField(
        required=False, min_value=0, max_value=86400, label="Timeout (s)", help_text="Blank: the cluster's default."
    )


class RebootForm(ActionForm):
    """Soft or hard reboot."""

    hard = forms.BooleanField(required=False, label="Hard reboot (power-cycle)")


class EvacuateForm(ActionForm):
    """Which instances leave the node."""

    mode = forms.ChoiceField(choices=EVACUATE_MODES, initial="all", label="Instances to move")


class JobFilter(django_filters.FilterSet):
    """Filter jobs by cluster, status and operation."""

    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.order_by("name"), to_field_name="name", empty_label="Any cluster"
    )
    status = django_filters.ChoiceFilter(choices=Job.Status.choices, empty_label="Any status")
    operation = django_filters.ChoiceFilter(choices=[], empty_label="Any operation")
    target = django_filters.CharFilter(lookup_expr="icontains", label="Target")

    class Meta:
        model = Job
        fields = ["cluster", "status", "operation", "target"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["operation"].extra["choices"] = [(op, op) for op in selectors.job_operations()]
