"""Viewsets of the portal API. Thin: scope the queryset to the token, validate input, call a service.

Every queryset starts from what the token may see (`Project.objects.visible_to`), so a foreign
object and a missing one both answer 404. Reader-only tokens may not write; some writes are for
admins only.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.portal import serializers as s
from identity.models import Project, ProjectApplication, RoleAssignment, User
from identity.quota_models import Resource
from identity.services import applications, quotas
from identity.tokens import TokenContext
from portal.errors import NotFound, Unauthorized, ValidationFailed
from portal.models import AuditEvent


class PortalPermission(BasePermission):
    """A valid token is required; reader-only tokens may only read."""

    message = "Reader-only tokens may not change anything."

    def has_permission(self, request: Request, view: Any) -> bool:
        ctx = request.auth
        if not isinstance(ctx, TokenContext):
            return False
        return request.method in SAFE_METHODS or not ctx.is_reader_only


class IsAdminToken(BasePermission):
    """Only tokens with the admin role."""

    message = "Only administrators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, TokenContext) and request.auth.is_admin


def actor_of(request: Request) -> User:
    """The caller's User row (services record it as the actor)."""
    try:
        return request.user.model
    except User.DoesNotExist as exc:
        raise Unauthorized("The token's user no longer exists.") from exc


def _member(project: Project, user_id: str | None) -> User:
    """A user with a role on `project`; ValidationFailed otherwise."""
    user = User.objects.filter(pk=user_id, assignments__project=project).distinct().first()
    if user is None:
        raise ValidationFailed(f"User {user_id} is not a member of project {project.pk}.")
    return user


class ProjectFilter(django_filters.FilterSet):
    """Filters of the project list."""

    class Meta:
        model = Project
        fields = ["name", "enabled"]


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Projects the token may see, with their members and quotas."""

    serializer_class = s.ProjectSerializer
    permission_classes = [PortalPermission]
    filterset_class = ProjectFilter

    def get_queryset(self) -> QuerySet[Project]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspects it without a token
            return Project.objects.none()
        return Project.objects.visible_to(self.request.auth).order_by("name")

    @extend_schema(responses=s.MemberSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def members(self, request: Request, pk: str | None = None) -> Response:
        """Users with a role on the project, with their role names."""
        project = self.get_object()
        members: dict[str, dict[str, Any]] = {}
        rows = (
            RoleAssignment.objects.filter(project=project)
            .order_by("user__name", "role__name")
            .values_list("user_id", "user__name", "role__name")
        )
        for user_id, user_name, role_name in rows:
            members.setdefault(user_id, {"user_id": user_id, "user_name": user_name, "roles": []})
            members[user_id]["roles"].append(role_name)
        return Response(s.MemberSerializer(list(members.values()), many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("user_id", OpenApiTypes.STR, description="A member: show their own quota.")],
        responses=s.QuotaSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def quotas(self, request: Request, pk: str | None = None) -> Response:
        """The project's limit, usage and pending usage of every resource (or one member's)."""
        project = self.get_object()
        user_id = request.query_params.get("user_id")
        rows = quotas.user_usage(project, _member(project, user_id)) if user_id else quotas.usage(project)
        return Response(s.QuotaSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("resource", OpenApiTypes.STR, OpenApiParameter.PATH)],
        request=s.QuotaLimitSerializer,
        responses=s.QuotaSerializer,
    )
    @action(
        detail=True,
        methods=["put"],
        url_path=r"quotas/(?P<resource>[^/]+)",
        url_name="quota-limit",
        permission_classes=[PortalPermission, IsAdminToken],
        pagination_class=None,
        filter_backends=[],
    )
    def set_quota(self, request: Request, pk: str | None = None, resource: str = "") -> Response:
        """Set the project's limit of one resource, or a member's (admin only)."""
        project = self.get_object()
        if not Resource.objects.filter(pk=resource).exists():
            raise NotFound(f"Could not find quota resource {resource}.")
        body = s.QuotaLimitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user_id = body.validated_data.get("user_id")
        user = _member(project, user_id) if user_id else None
        quotas.set_limit(project, resource, body.validated_data["limit"], actor=actor_of(request), user=user)
        rows = quotas.user_usage(project, user) if user is not None else quotas.usage(project)
        return Response(s.QuotaSerializer(next(r for r in rows if r["resource"] == resource)).data)


class ResourceViewSet(viewsets.ReadOnlyModelViewSet):
    """The declared quota resources."""

    serializer_class = s.ResourceSerializer
    permission_classes = [PortalPermission]
    queryset = Resource.objects.order_by("name")
    lookup_value_regex = r"[^/]+"
    filterset_fields = ["unit"]


class ApplicationFilter(django_filters.FilterSet):
    """Filters of the application list."""

    class Meta:
        model = ProjectApplication
        fields = ["state", "applicant_id"]


@extend_schema_view(
    create=extend_schema(request=s.ApplicationCreateSerializer, responses={201: s.ApplicationSerializer})
)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Project applications: users submit and cancel their own; admins see all and decide."""

    serializer_class = s.ApplicationSerializer
    permission_classes = [PortalPermission]
    filterset_class = ApplicationFilter

    def get_queryset(self) -> QuerySet[ProjectApplication]:
        apps = ProjectApplication.objects.select_related("applicant").order_by("-created_at", "-id")
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspects it without a token
            return apps.none()
        ctx = self.request.auth
        return apps if ctx.is_admin else apps.filter(applicant_id=ctx.user_id)

    def create(self, request: Request) -> Response:
        """Submit an application for a new project with the limits it wants."""
        body = s.ApplicationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_of(request)
        app = applications.submit_application(
            actor,
            body.validated_data["name"],
            description=body.validated_data["description"],
            requested_limits=body.validated_data["requested_limits"],
            actor=actor,
        )
        return Response(s.ApplicationSerializer(app).data, status=201)

    def _decide(self, request: Request, decide: Any, **kwargs: Any) -> Response:
        app = self.get_object()
        app = decide(app, actor=actor_of(request), **kwargs)
        return Response(s.ApplicationSerializer(app).data)

    @extend_schema(request=s.DecisionSerializer, responses=s.ApplicationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[PortalPermission, IsAdminToken])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Create the project and make the applicant its member (admin only)."""
        body = s.DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(request, applications.approve_application, reason=body.validated_data["reason"])

    @extend_schema(request=s.DecisionSerializer, responses=s.ApplicationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[PortalPermission, IsAdminToken])
    def deny(self, request: Request, pk: str | None = None) -> Response:
        """Refuse the application, saying why (admin only)."""
        body = s.DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(request, applications.deny_application, reason=body.validated_data["reason"])

    @extend_schema(request=None, responses=s.ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw one's own pending application."""
        return self._decide(request, applications.cancel_application)


class AuditFilter(django_filters.FilterSet):
    """Filters of the audit log: who, what, which project, outcome, and a time range."""

    time = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = AuditEvent
        fields = ["actor_id", "action", "project_id", "result", "time"]


class AuditViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, newest first (admin only)."""

    serializer_class = s.AuditEventSerializer
    permission_classes = [PortalPermission, IsAdminToken]
    queryset = AuditEvent.objects.order_by("-time", "-id")
    filterset_class = AuditFilter
