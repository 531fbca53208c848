"""django-tables2 tables of the cluster admin pages: nodes (gnt-node columns), instances, jobs."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables

from backend_ganeti.models import Instance, Job, Node
from backend_ganeti.ui.capacity import format_mib

TABLE_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}
NUMBER_ATTRS = {"td": {"class": "text-end font-monospace"}, "th": {"class": "text-end"}}


class SizeColumn(tables.Column):
    """A size in MiB shown as MiB/GiB/TiB, right-aligned; `*` for an offline node that did not report."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", NUMBER_ATTRS)
        kwargs.setdefault("empty_values", ())
        super().__init__(*args, **kwargs)

    def render(self, value: int | None, record: Any) -> str:
        if value is None:
            return "*" if getattr(record, "offline", False) else "?"
        return format_mib(value)


class NodeTable(tables.Table):
    """A cluster's nodes like `gnt-node list`, with role/drained/offline badges and actions."""

    name = tables.Column(verbose_name="Node")
    flags = tables.TemplateColumn(
        template_name="backend_ganeti/_node_flags.html", verbose_name="State", orderable=False, accessor="pk"
    )
    dtotal = SizeColumn(verbose_name="DTotal")
    dfree = SizeColumn(verbose_name="DFree")
    mtotal = SizeColumn(verbose_name="MTotal")
    mfree = SizeColumn(verbose_name="MFree")
    ctotal = tables.Column(verbose_name="CPUs", attrs=NUMBER_ATTRS, default="?")
    pinst_cnt = tables.Column(verbose_name="Pinst", attrs=NUMBER_ATTRS)
    sinst_cnt = tables.Column(verbose_name="Sinst", attrs=NUMBER_ATTRS)
    group = tables.Column(accessor="group__name", verbose_name="Group", default="")
    actions = tables.TemplateColumn(
        template_name="backend_ganeti/_node_actions.html", orderable=False, verbose_name="", accessor="pk"
    )

    class Meta:
        model = Node
        fields = ("name", "flags", "dtotal", "dfree", "mtotal", "mfree", "ctotal", "pinst_cnt", "sinst_cnt", "group")
        template_name = TABLE_TEMPLATE
        attrs = TABLE_ATTRS
        row_attrs = {"id": lambda record: f"node-{record.pk}"}
        empty_text = "No nodes: refresh the cluster."


class InstanceTable(tables.Table):
    """Instances of a cluster with their nodes, status and actions."""

    name = tables.Column(verbose_name="Instance")
    status = tables.TemplateColumn(template_name="backend_ganeti/_instance_status.html")
    primary_node = tables.Column(verbose_name="Primary node")
    secondary_nodes = tables.Column(verbose_name="Secondary", orderable=False, empty_values=())
    os = tables.Column(verbose_name="OS")
    memory_mb = tables.Column(verbose_name="Memory", attrs=NUMBER_ATTRS)
    vcpus = tables.Column(verbose_name="VCPUs", attrs=NUMBER_ATTRS)
    disk_template = tables.Column(verbose_name="Template")
    project = tables.Column(accessor="project__name", verbose_name="Project", default="")
    actions = tables.TemplateColumn(
        template_name="backend_ganeti/_instance_actions.html", orderable=False, verbose_name="", accessor="pk"
    )

    class Meta:
        model = Instance
        fields = (
            "name",
            "status",
            "primary_node",
            "secondary_nodes",
            "os",
            "memory_mb",
            "vcpus",
            "disk_template",
            "project",
        )
        template_name = TABLE_TEMPLATE
        attrs = TABLE_ATTRS
        row_attrs = {"id": lambda record: f"instance-{record.pk}"}
        empty_text = "No instances."

    def render_secondary_nodes(self, value: list[str] | None) -> str:
        return ", ".join(value or []) or "—"

    def render_memory_mb(self, value: int) -> str:
        return format_mib(value)


class JobTable(tables.Table):
    """Jobs, newest first, with status badge and progress."""

    id = tables.LinkColumn("manage_job", args=[tables.A("pk")], verbose_name="ID", attrs=NUMBER_ATTRS)
    cluster = tables.LinkColumn(
        "manage_cluster", args=[tables.A("cluster__name")], accessor="cluster__name", verbose_name="Cluster"
    )
    job_id = tables.Column(verbose_name="Cluster job", default="—")
    operation = tables.Column()
    target = tables.Column()
    status = tables.TemplateColumn(template_name="backend_ganeti/_job_status.html")
    progress = tables.Column(attrs=NUMBER_ATTRS, default="")
    actor = tables.Column(verbose_name="By", default="system")
    created_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name="Submitted")

    class Meta:
        model = Job
        fields = ("id", "cluster", "job_id", "operation", "target", "status", "progress", "actor", "created_at")
        template_name = TABLE_TEMPLATE
        attrs = TABLE_ATTRS
        row_attrs = {"id": lambda record: f"job-{record.pk}"}
        empty_text = "No jobs."

    def render_progress(self, value: int) -> str:
        return f"{value}%"
