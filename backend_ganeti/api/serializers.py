"""Serializers of the admin API for clusters, nodes, instances and jobs (output shapes, input checks).

A cluster's password is write-only: it is accepted on create and update and never serialized;
`password_set` tells whether one is stored.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend_ganeti import selectors
from backend_ganeti.models import Cluster, Instance, Job, Node
from identity.models import Project

EVACUATE_MODES = ("all", "primary-only", "secondary-only")


class ClusterSerializer(serializers.ModelSerializer):
    """A cluster with its admin state, reachability and capacity snapshot (no password)."""

    projects = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    password_set = serializers.SerializerMethodField()
    node_count = serializers.SerializerMethodField()
    instance_count = serializers.SerializerMethodField()

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "kind",
            "endpoint",
            "username",
            "password_set",
            "ca_file",
            "state",
            "public",
            "projects",
            "disk_templates",
            "hypervisor",
            "software_version",
            "reachable",
            "last_error",
            "last_seen",
            "mem_total_mb",
            "mem_free_mb",
            "disk_total_mb",
            "disk_free_mb",
            "cpu_total",
            "cpu_used",
            "reserved_mem_mb",
            "reserved_disk_mb",
            "reserved_cpu",
            "capacity_updated_at",
            "node_count",
            "instance_count",
            "created_at",
        ]
        read_only_fields = fields

    def get_password_set(self, cluster: Cluster) -> bool:
        """Whether a RAPI password is stored (the password itself is never returned)."""
        return bool(cluster.password)

    def get_node_count(self, cluster: Cluster) -> int:
        """Nodes the last refresh found."""
        counted = getattr(cluster, "node_count", None)
        return counted if counted is not None else cluster.nodes.count()

    def get_instance_count(self, cluster: Cluster) -> int:
        """Instances on the cluster that are not deleted."""
        counted = getattr(cluster, "instance_count", None)
        if counted is not None:
            return counted
        return cluster.instances.exclude(status=Instance.Status.DELETED).count()


class ClusterWriteSerializer(serializers.Serializer):
    """Input of PATCH /api/admin/clusters/{name}/: any of these fields.

    A blank or absent password keeps the stored one; `clear_password` removes it. New connection
    settings are tried against the cluster before they are kept (unless the cluster is offline).
    """

    name = serializers.SlugField(max_length=64, required=False)
    endpoint = serializers.CharField(max_length=512, required=False)
    username = serializers.CharField(max_length=128, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=256, required=False, allow_blank=True, write_only=True, trim_whitespace=False
    )
    clear_password = serializers.BooleanField(required=False, write_only=True)
    ca_file = serializers.CharField(max_length=512, required=False, allow_blank=True)
    disk_templates = serializers.ListField(child=serializers.CharField(max_length=32), required=False)
    public = serializers.BooleanField(required=False)
    projects = serializers.PrimaryKeyRelatedField(many=True, queryset=Project.objects.all(), required=False)
    state = serializers.ChoiceField(choices=Cluster.State.choices, required=False)


class ClusterCreateSerializer(ClusterWriteSerializer):
    """Input of POST /api/admin/clusters/: the service contacts the cluster before keeping it."""

    name = serializers.SlugField(max_length=64)
    kind = serializers.ChoiceField(choices=Cluster.Kind.choices)
    endpoint = serializers.CharField(max_length=512)
    public = serializers.BooleanField(required=False, default=True)
    state = None
    clear_password = None

    def validate_name(self, value: str) -> str:
        """Names are unique across clusters."""
        if Cluster.objects.filter(name=value).exists():
            raise serializers.ValidationError(f"A cluster named {value} already exists.")
        return value


class NodeSerializer(serializers.ModelSerializer):
    """A node with the `gnt-node list` columns (MiB; null when the node did not report)."""

    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    group = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Node
        fields = [
            "id",
            "cluster",
            "group",
            "name",
            "address",
            "role",
            "dtotal",
            "dfree",
            "mtotal",
            "mfree",
            "ctotal",
            "pinst_cnt",
            "sinst_cnt",
            "drained",
            "offline",
            "vm_capable",
            "updated_at",
        ]
        read_only_fields = fields


class InstanceSerializer(serializers.ModelSerializer):
    """An instance as its cluster sees it, with its portal owner."""

    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    project_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Instance
        fields = [
            "id",
            "cluster",
            "name",
            "project_id",
            "owner_ref",
            "status",
            "admin_up",
            "primary_node",
            "secondary_nodes",
            "vcpus",
            "memory_mb",
            "disk_template",
            "disks",
            "nics",
            "os",
            "fault",
            "progress",
            "backend_time",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    """A job the portal submitted to a cluster."""

    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)
    instance_id = serializers.IntegerField(read_only=True, allow_null=True)
    finished = serializers.BooleanField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "cluster",
            "job_id",
            "operation",
            "target",
            "instance_id",
            "status",
            "finished",
            "params",
            "progress",
            "error",
            "actor",
            "created_at",
            "started_at",
            "ended_at",
        ]
        read_only_fields = fields


class LogLineSerializer(serializers.Serializer):
    """One line of a job's log."""

    serial = serializers.IntegerField()
    time = serializers.DateTimeField(allow_null=True)
    kind = serializers.CharField()
    message = serializers.CharField()


class JobDetailSerializer(JobSerializer):
    """A job with its log."""

    log = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "log", "last_log_serial"]
        read_only_fields = fields

    @extend_schema_field(LogLineSerializer(many=True))
    def get_log(self, job: Job) -> list[dict[str, Any]]:
        """The log lines in serial order."""
        return LogLineSerializer(selectors.job_log(job), many=True).data


class MigrateSerializer(serializers.Serializer):
    """Input of POST instances/{id}/migrate/."""

    target_node = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)
    live = serializers.BooleanField(required=False, default=True)


class FailoverSerializer(serializers.Serializer):
    """Input of POST instances/{id}/failover/."""

    target_node = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)


class StopSerializer(serializers.Serializer):
    """Input of POST instances/{id}/stop/."""

    timeout = serializers.IntegerField(min_value=0, max_value=86400, required=False, allow_null=True)


class RebootSerializer(serializers.Serializer):
    """Input of POST instances/{id}/reboot/."""

    hard = serializers.BooleanField(required=False, default=False)


class EvacuateSerializer(serializers.Serializer):
    """Input of POST nodes/{id}/evacuate/."""

    mode = serializers.ChoiceField(choices=EVACUATE_MODES, required=False, default="all")


class DriftFieldSerializer(serializers.Serializer):
    """One field that differs: the database's value and the cluster's."""

    field = serializers.CharField()
    database = serializers.JSONField()
    cluster = serializers.JSONField()


class DriftSerializer(serializers.Serializer):
    """An instance whose row differs from what the cluster says."""

    name = serializers.CharField()
    fields = serializers.SerializerMethodField(method_name="field_rows")

    @extend_schema_field(DriftFieldSerializer(many=True))
    def field_rows(self, drift: Any) -> list[dict[str, Any]]:
        """The differing fields, in the report's order."""
        rows = [{"field": key, "database": old, "cluster": new} for key, (old, new) in drift.fields.items()]
        return DriftFieldSerializer(rows, many=True).data


class ReconcileReportSerializer(serializers.Serializer):
    """What a reconciliation found, and how many rows it fixed (0 on a dry run)."""

    cluster = serializers.CharField()
    dry_run = serializers.BooleanField()
    on_cluster = serializers.IntegerField()
    in_database = serializers.IntegerField()
    missing_in_cluster = serializers.ListField(child=serializers.CharField())
    unknown_in_db = serializers.ListField(child=serializers.CharField())
    out_of_sync = DriftSerializer(many=True)
    in_flight = serializers.ListField(child=serializers.CharField())
    fixed = serializers.IntegerField()
    differences = serializers.IntegerField()
    summary = serializers.SerializerMethodField()

    def get_summary(self, report: Any) -> str:
        """One line: counts by kind."""
        return report.summary()
