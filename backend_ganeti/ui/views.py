"""Admin pages for clusters: the list with capacity bars, one cluster's nodes, instances and jobs,
and the confirmation page every action goes through (admins only).

Reads come from `backend_ganeti.selectors`; actions call the services listed in
`backend_ganeti.ui.actions`. An action that submits a job redirects to the job's page, where its
progress and log update live.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from backend_ganeti import selectors
from backend_ganeti.models import Cluster, Instance, Job, Node
from backend_ganeti.ui.actions import (
    CLUSTER_ACTIONS,
    INSTANCE_ACTIONS,
    JOB_ACTIONS,
    NODE_ACTIONS,
    ActionSpec,
    available,
)
from backend_ganeti.ui.capacity import capacity_bars
from backend_ganeti.ui.tables import InstanceTable, JobTable, NodeTable
from portal.errors import DomainError, NotFound
from portal.ui.nav import admin_required, render_page
from portal.ui.tables import configure

RECENT_JOBS = 10


@admin_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    """Every cluster with its state, reachability and memory/disk/CPU bars."""
    rows = [(cluster, capacity_bars(cluster)) for cluster in selectors.clusters()]
    return render_page(request, "backend_ganeti/clusters.html", {"rows": rows})


@admin_required
def cluster_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One cluster: capacity, actions, nodes, instances and its recent jobs."""
    try:
        cluster = selectors.cluster_named(name)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    nodes = list(selectors.nodes(cluster=cluster))
    for node in nodes:
        node.admin_actions = available(NODE_ACTIONS, node)
    instances = list(selectors.instances(cluster=cluster))
    for instance in instances:
        instance.admin_actions = available(INSTANCE_ACTIONS, instance)
    jobs = JobTable(list(selectors.jobs(cluster=cluster)[:RECENT_JOBS]), orderable=False, exclude=("cluster",))
    context = {
        "cluster": cluster,
        "bars": capacity_bars(cluster),
        "actions": available(CLUSTER_ACTIONS, cluster),
        "node_table": configure(request, NodeTable(nodes, prefix="node-"), per_page=50),
        "instance_table": configure(request, InstanceTable(instances, prefix="instance-"), per_page=50),
        "job_table": jobs,
        "groups": list(cluster.groups.all()),
        "projects": list(cluster.projects.order_by("name")),
    }
    return render_page(request, "backend_ganeti/cluster_detail.html", context)


def confirm_action(
    request: HttpRequest, spec: ActionSpec, target: Any, *, action_url: str, back_url: str, cluster: Cluster
) -> HttpResponse:
    """GET: the confirmation page (with the action's options). POST: run it, then show its job or go back."""
    form = spec.form(request.POST if request.method == "POST" else None, target=target)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = spec.run(target, form.options(), request.user)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                if isinstance(result, Job):
                    messages.success(request, f"{spec.label} {target}: job {result.pk} submitted.")
                    return redirect("manage_job", result.pk)
                messages.success(request, f"{spec.label} {target}: done.")
                return redirect(back_url)
        else:
            status = 400
    context = {
        "spec": spec,
        "question": spec.ask(target),
        "target": target,
        "form": form,
        "action_url": action_url,
        "back_url": back_url,
        "cluster": cluster,
    }
    return render_page(request, "backend_ganeti/confirm.html", context, status=status)


def _spec(actions: dict[str, ActionSpec], action: str) -> ActionSpec:
    spec = actions.get(action)
    if spec is None:
        raise Http404("Unknown action.")
    return spec


@admin_required
def cluster_action(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """Drain, undrain, offline, online or refresh a cluster, after confirmation."""
    spec = _spec(CLUSTER_ACTIONS, action)
    cluster = get_object_or_404(Cluster, name=name)
    back = reverse("manage_cluster", args=[cluster.name])
    here = reverse("manage_cluster_action", args=[cluster.name, action])
    return confirm_action(request, spec, cluster, action_url=here, back_url=back, cluster=cluster)


@admin_required
def node_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Evacuate, drain or undrain a node, after confirmation."""
    spec = _spec(NODE_ACTIONS, action)
    node = get_object_or_404(Node.objects.select_related("cluster"), pk=pk)
    back = reverse("manage_cluster", args=[node.cluster.name])
    here = reverse("manage_node_action", args=[node.pk, action])
    return confirm_action(request, spec, node, action_url=here, back_url=back, cluster=node.cluster)


@admin_required
def instance_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Migrate, fail over, start, stop or reboot an instance, after confirmation."""
    spec = _spec(INSTANCE_ACTIONS, action)
    instance = get_object_or_404(Instance.objects.select_related("cluster"), pk=pk)
    back = reverse("manage_cluster", args=[instance.cluster.name])
    here = reverse("manage_instance_action", args=[instance.pk, action])
    return confirm_action(request, spec, instance, action_url=here, back_url=back, cluster=instance.cluster)


@admin_required
def job_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Cancel a job, after confirmation."""
    spec = _spec(JOB_ACTIONS, action)
    job = get_object_or_404(Job.objects.select_related("cluster"), pk=pk)
    back = reverse("manage_job", args=[job.pk])
    here = reverse("manage_job_action", args=[job.pk, action])
    return confirm_action(request, spec, job, action_url=here, back_url=back, cluster=job.cluster)
