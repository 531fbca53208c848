"""Serializers of the portal API: output shapes and input validation (services do the rest)."""

from __future__ import annotations

from rest_framework import serializers

from identity.models import Project, ProjectApplication
from identity.quota_models import Resource
from identity.services.quotas import MAX_QUANTITY
from portal.models import AuditEvent


class ProjectSerializer(serializers.ModelSerializer):
    """A project as the portal shows it."""

    domain_id = serializers.CharField(read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "description", "enabled", "domain_id", "created_at"]
        read_only_fields = fields


class MemberSerializer(serializers.Serializer):
    """A project member and the names of their roles on it."""

    user_id = serializers.CharField()
    user_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class QuotaSerializer(serializers.Serializer):
    """One resource's limit and usage for a project (or a member within it)."""

    resource = serializers.CharField()
    limit = serializers.IntegerField(allow_null=True)
    usage = serializers.IntegerField()
    pending = serializers.IntegerField()
    unit = serializers.CharField()
    description = serializers.CharField()


class QuotaLimitSerializer(serializers.Serializer):
    """Input of PUT /api/projects/{id}/quotas/{resource}/: a new limit, optionally for one member."""

    limit = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    user_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)


class ResourceSerializer(serializers.ModelSerializer):
    """A declared quota resource and its default limits."""

    class Meta:
        model = Resource
        fields = ["name", "description", "unit", "default_project_limit", "default_user_limit"]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer):
    """A project application and its decision."""

    applicant_id = serializers.CharField(read_only=True)
    applicant_name = serializers.CharField(source="applicant.name", read_only=True)
    project_id = serializers.CharField(read_only=True, allow_null=True)
    decided_by_id = serializers.CharField(read_only=True, allow_null=True)
    requested_limits = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = ProjectApplication
        fields = [
            "id",
            "applicant_id",
            "applicant_name",
            "name",
            "description",
            "requested_limits",
            "state",
            "reason",
            "project_id",
            "decided_by_id",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class ApplicationCreateSerializer(serializers.Serializer):
    """Input of POST /api/applications/."""

    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    requested_limits = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY), required=False, default=dict
    )


class DecisionSerializer(serializers.Serializer):
    """Input of approve/deny: an optional note or reason."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit log entry."""

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "time",
            "actor_id",
            "actor_name",
            "project_id",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "result",
            "detail",
            "request_id",
        ]
        read_only_fields = fields
