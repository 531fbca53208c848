"""Admin API viewsets for clusters, nodes, instances and jobs (admin tokens only). Thin: look up, call a service.

Reads come from `backend_ganeti.selectors`/the models; every change goes through
`backend_ganeti.services`. Operations that reach a cluster answer 202 with the Job that follows
them; domain errors become the portal's JSON faults (404 unknown, 409 wrong state or offline,
400 bad input, 502 the cluster refused).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from backend_ganeti import selectors
from backend_ganeti.api import serializers as s
from backend_ganeti.errors import ClusterError
from backend_ganeti.models import Cluster, Instance, Job, Node
from backend_ganeti.rapi.errors import RapiError
from backend_ganeti.services import clusters as cluster_service
from backend_ganeti.services import operations, reconcile
from identity.api.portal.views import IsAdminToken, PortalPermission, actor_of

STATE_ACTIONS = {
    "drain": Cluster.State.DRAINED,
    "undrain": Cluster.State.ENABLED,
    "offline": Cluster.State.OFFLINE,
    "online": Cluster.State.ENABLED,
}


def accepted(job: Job) -> Response:
    """202 with the Job that follows the operation."""
    return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class AdminViewSet(viewsets.GenericViewSet):
    """Admin-only; a cluster error a service let through still becomes a fault, never a 500."""

    permission_classes = [PortalPermission, IsAdminToken]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RapiError):
            exc = ClusterError(str(exc))
        return super().handle_exception(exc)

    def body(self, serializer_class: type[s.serializers.Serializer], **kwargs: Any) -> dict[str, Any]:
        """The request body validated by `serializer_class` (400 when invalid)."""
        body = serializer_class(data=self.request.data, **kwargs)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)


@extend_schema(tags=["admin: clusters"])
@extend_schema_view(
    create=extend_schema(request=s.ClusterCreateSerializer, responses={201: s.ClusterSerializer}),
    partial_update=extend_schema(request=s.ClusterWriteSerializer, responses=s.ClusterSerializer),
)
class ClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, AdminViewSet):
    """Clusters: register, inspect, change, drain/offline, refresh, reconcile, remove."""

    serializer_class = s.ClusterSerializer
    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    filterset_fields = ["kind", "state", "reachable", "public"]

    def get_queryset(self) -> QuerySet[Cluster]:
        return selectors.clusters()

    def _data(self, cluster: Cluster) -> dict[str, Any]:
        """The cluster as the API shows it, with fresh counts."""
        return s.ClusterSerializer(selectors.clusters().get(pk=cluster.pk)).data

    def create(self, request: Request) -> Response:
        """Register a cluster: the service contacts it, then reads its nodes and capacity."""
        data = self.body(s.ClusterCreateSerializer)
        projects = data.pop("projects", None)
        actor = actor_of(request)
        cluster = cluster_service.add_cluster(
            name=data["name"],
            kind=data["kind"],
            endpoint=data["endpoint"],
            username=data.get("username", ""),
            password=data.get("password", ""),
            ca_file=data.get("ca_file", ""),
            public=data["public"],
            disk_templates=tuple(data.get("disk_templates", ())),
            actor=actor,
        )
        if projects:
            cluster = cluster_service.set_cluster_projects(cluster, projects, public=data["public"], actor=actor)
        return Response(self._data(cluster), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, name: str | None = None) -> Response:
        """Change connection settings, allowed templates, visibility or admin state."""
        cluster = self.get_object()
        data = self.body(s.ClusterWriteSerializer, partial=True)
        actor = actor_of(request)
        projects = data.pop("projects", None)
        public = data.pop("public", None)
        state = data.pop("state", None)
        if data:
            cluster = cluster_service.update_cluster(cluster, actor=actor, **data)
        if projects is not None or public is not None:
            cluster = cluster_service.set_cluster_projects(
                cluster,
                projects if projects is not None else list(cluster.projects.all()),
                public=cluster.public if public is None else public,
                actor=actor,
            )
        if state is not None and state != cluster.state:
            cluster = cluster_service.set_cluster_state(cluster, state, actor=actor)
        return Response(self._data(cluster))

    def destroy(self, request: Request, name: str | None = None) -> Response:
        """Forget a cluster (409 while it has instances)."""
        cluster_service.remove_cluster(self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _set_state(self, request: Request, verb: str) -> Response:
        cluster = cluster_service.set_cluster_state(self.get_object(), STATE_ACTIONS[verb], actor=actor_of(request))
        return Response(self._data(cluster))

    @extend_schema(request=None, responses=s.ClusterSerializer)
    @action(detail=True, methods=["post"])
    def drain(self, request: Request, name: str | None = None) -> Response:
        """Take no new instances; existing ones keep running and can be operated."""
        return self._set_state(request, "drain")

    @extend_schema(request=None, responses=s.ClusterSerializer)
    @action(detail=True, methods=["post"])
    def undrain(self, request: Request, name: str | None = None) -> Response:
        """Accept new instances again."""
        return self._set_state(request, "undrain")

    @extend_schema(request=None, responses=s.ClusterSerializer)
    @action(detail=True, methods=["post"])
    def offline(self, request: Request, name: str | None = None) -> Response:
        """Send no operation to the cluster (maintenance)."""
        return self._set_state(request, "offline")

    @extend_schema(request=None, responses=s.ClusterSerializer)
    @action(detail=True, methods=["post"])
    def online(self, request: Request, name: str | None = None) -> Response:
        """Bring the cluster back into service."""
        return self._set_state(request, "online")

    @extend_schema(request=None, responses=s.ClusterSerializer)
    @action(detail=True, methods=["post"])
    def refresh(self, request: Request, name: str | None = None) -> Response:
        """Re-read nodes, groups and capacity from the cluster (409 when it is unreachable)."""
        return Response(self._data(cluster_service.refresh_cluster(self.get_object())))

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Report only; change nothing.")],
        responses=s.ReconcileReportSerializer,
    )
    @action(detail=True, methods=["post"])
    def reconcile(self, request: Request, name: str | None = None) -> Response:
        """Compare the portal with the cluster and fix differences (or only report them with dry_run=1)."""
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        report = reconcile.reconcile_cluster(self.get_object(), dry_run=dry_run, actor=actor_of(request))
        return Response(s.ReconcileReportSerializer(report).data)

    @extend_schema(responses=s.NodeSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def nodes(self, request: Request, name: str | None = None) -> Response:
        """The cluster's nodes with the `gnt-node list` columns."""
        return Response(s.NodeSerializer(selectors.nodes(cluster=self.get_object()), many=True).data)


class NodeFilter(django_filters.FilterSet):
    """Filters of the node list."""

    cluster = django_filters.CharFilter(field_name="cluster__name")

    class Meta:
        model = Node
        fields = ["cluster", "drained", "offline", "role"]


@extend_schema(tags=["admin: nodes"])
class NodeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    """Nodes of every cluster; evacuate, drain, undrain."""

    serializer_class = s.NodeSerializer
    filterset_class = NodeFilter

    def get_queryset(self) -> QuerySet[Node]:
        return selectors.nodes()

    @extend_schema(request=s.EvacuateSerializer, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def evacuate(self, request: Request, pk: str | None = None) -> Response:
        """Move the node's instances elsewhere (mode: all, primary-only, secondary-only)."""
        data = self.body(s.EvacuateSerializer)
        return accepted(operations.evacuate_node(self.get_object(), mode=data["mode"], actor=actor_of(request)))

    @extend_schema(request=None, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def drain(self, request: Request, pk: str | None = None) -> Response:
        """Place no new instances on the node."""
        return accepted(operations.set_node_drained(self.get_object(), True, actor=actor_of(request)))

    @extend_schema(request=None, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def undrain(self, request: Request, pk: str | None = None) -> Response:
        """Allow instances on the node again."""
        return accepted(operations.set_node_drained(self.get_object(), False, actor=actor_of(request)))


class InstanceFilter(django_filters.FilterSet):
    """Filters of the instance list: cluster name, status, project id."""

    cluster = django_filters.CharFilter(field_name="cluster__name")
    project = django_filters.CharFilter(field_name="project_id")

    class Meta:
        model = Instance
        fields = ["cluster", "status", "project", "primary_node", "owner_ref"]


@extend_schema(tags=["admin: instances"])
class InstanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    """Instances on every cluster (deleted ones only with ?status=deleted); migrate, failover, power."""

    serializer_class = s.InstanceSerializer
    filterset_class = InstanceFilter

    def get_queryset(self) -> QuerySet[Instance]:
        rows = Instance.objects.select_related("cluster").order_by("cluster__name", "name")
        if self.request is not None and not self.request.query_params.get("status"):
            rows = rows.exclude(status=Instance.Status.DELETED)
        return rows

    @extend_schema(request=s.MigrateSerializer, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def migrate(self, request: Request, pk: str | None = None) -> Response:
        """Live-migrate (or, with live=false, move while stopped) to another node."""
        data = self.body(s.MigrateSerializer)
        job = operations.migrate_instance(
            self.get_object(), target_node=data.get("target_node") or None, live=data["live"], actor=actor_of(request)
        )
        return accepted(job)

    @extend_schema(request=s.FailoverSerializer, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def failover(self, request: Request, pk: str | None = None) -> Response:
        """Restart the instance on its secondary node."""
        data = self.body(s.FailoverSerializer)
        job = operations.failover_instance(
            self.get_object(), target_node=data.get("target_node") or None, actor=actor_of(request)
        )
        return accepted(job)

    @extend_schema(request=None, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Start the instance."""
        return accepted(operations.start_instance(self.get_object(), actor=actor_of(request)))

    @extend_schema(request=s.StopSerializer, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """Shut the instance down (hard power-off after `timeout` seconds)."""
        data = self.body(s.StopSerializer)
        return accepted(
            operations.stop_instance(self.get_object(), timeout=data.get("timeout"), actor=actor_of(request))
        )

    @extend_schema(request=s.RebootSerializer, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def reboot(self, request: Request, pk: str | None = None) -> Response:
        """Reboot the instance (hard=true power-cycles it)."""
        data = self.body(s.RebootSerializer)
        return accepted(operations.reboot_instance(self.get_object(), hard=data["hard"], actor=actor_of(request)))


class JobFilter(django_filters.FilterSet):
    """Filters of the job list: cluster name, status, operation, instance id."""

    cluster = django_filters.CharFilter(field_name="cluster__name")
    status = django_filters.MultipleChoiceFilter(choices=Job.Status.choices)

    class Meta:
        model = Job
        fields = ["cluster", "status", "operation", "instance", "target"]


@extend_schema(tags=["admin: jobs"])
@extend_schema_view(retrieve=extend_schema(responses=s.JobDetailSerializer))
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminViewSet):
    """Jobs submitted to clusters, newest first; the detail carries the log and progress."""

    filterset_class = JobFilter

    def get_queryset(self) -> QuerySet[Job]:
        return selectors.jobs()

    def get_serializer_class(self) -> type[s.JobSerializer]:
        return s.JobDetailSerializer if self.action == "retrieve" else s.JobSerializer

    @extend_schema(request=None, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Ask the cluster to cancel the job (409 once it has finished)."""
        return accepted(operations.cancel_job(self.get_object(), actor=actor_of(request)))
