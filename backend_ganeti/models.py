"""What backend_ganeti knows about clusters: clusters, node groups, nodes, instances, jobs.

These rows mirror the clusters (refreshed by queries, jobs and reconciliation); only
`backend_ganeti.services` writes them. Credentials never appear in `repr`, logs or the admin API.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Cluster(models.Model):
    """A Ganeti cluster reached over RAPI, or the embedded libvirt host."""

    class Kind(models.TextChoices):
        GANETI = "ganeti", "Ganeti (RAPI)"
        LIBVIRT = "libvirt", "libvirt host"

    class State(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        DRAINED = "drained", "Drained (no new instances)"
        OFFLINE = "offline", "Offline (no operations)"

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Ganeti: https://host:5080; libvirt: the host agent's socket path (unix:///path) or URL.
    endpoint = models.CharField(max_length=512)
    username = models.CharField(max_length=128, blank=True, default="")
    password = models.CharField(max_length=256, blank=True, default="")
    ca_file = models.CharField(max_length=512, blank=True, default="", help_text="PEM file to verify TLS")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ENABLED)
    public = models.BooleanField(default=True, help_text="Any project may use it; else only assigned ones")
    projects = models.ManyToManyField("identity.Project", blank=True, related_name="clusters")
    disk_templates = models.JSONField(default=list, blank=True, help_text="Allowed templates; empty = all")
    hypervisor = models.CharField(max_length=32, blank=True, default="")
    software_version = models.CharField(max_length=64, blank=True, default="")
    # Reachability as last observed (set by every query and operation).
    reachable = models.BooleanField(default=True)
    last_error = models.TextField(blank=True, default="")
    last_seen = models.DateTimeField(null=True, blank=True)
    # Capacity snapshot (sum over vm-capable, online, undrained nodes) and allocator reservations.
    mem_total_mb = models.BigIntegerField(default=0)
    mem_free_mb = models.BigIntegerField(default=0)
    disk_total_mb = models.BigIntegerField(default=0)
    disk_free_mb = models.BigIntegerField(default=0)
    cpu_total = models.IntegerField(default=0)
    cpu_used = models.IntegerField(default=0)
    reserved_mem_mb = models.BigIntegerField(default=0)
    reserved_disk_mb = models.BigIntegerField(default=0)
    reserved_cpu = models.IntegerField(default=0)
    capacity_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Cluster {self.name} kind={self.kind} endpoint={self.endpoint} state={self.state}>"


class NodeGroup(models.Model):
    """A Ganeti node group (a libvirt host has one implicit group, `default`)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=128)
    uuid = models.CharField(max_length=64, blank=True, default="")
    alloc_policy = models.CharField(max_length=32, default="preferred")

    class Meta:
        ordering = ["cluster__name", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="uniq_group_per_cluster")]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.name}"


class Node(models.Model):
    """A node of a cluster with its last reported capacity (MiB; None when it did not report)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes")
    group = models.ForeignKey(NodeGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="nodes")
    name = models.CharField(max_length=255)
    address = models.CharField(max_length=255, blank=True, default="")
    # Ganeti role letters: M master, C candidate, R regular, D drained, O offline.
    role = models.CharField(max_length=1, default="R")
    mtotal = models.BigIntegerField(null=True, blank=True)
    mfree = models.BigIntegerField(null=True, blank=True)
    dtotal = models.BigIntegerField(null=True, blank=True)
    dfree = models.BigIntegerField(null=True, blank=True)
    ctotal = models.IntegerField(null=True, blank=True)
    pinst_cnt = models.IntegerField(default=0)
    sinst_cnt = models.IntegerField(default=0)
    drained = models.BooleanField(default=False)
    offline = models.BooleanField(default=False)
    vm_capable = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cluster__name", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="uniq_node_per_cluster")]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.name}"


class Instance(models.Model):
    """An instance as the cluster sees it, plus who owns it in the portal.

    `status` is the backend's view (building/running/stopped/error/deleted); compute maps it to
    Nova statuses. `backend_time` is the cluster timestamp of the last applied event: an event
    carrying an older timestamp is dropped (Synnefo's rule), so replays are harmless.
    """

    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"
        ERROR = "error", "Error"
        DELETED = "deleted", "Deleted"

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="instances")
    name = models.CharField(max_length=255)
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="backend_instances"
    )
    # Who in the portal owns it, e.g. compute's server id.
    owner_ref = models.CharField(max_length=64, blank=True, default="", db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BUILDING)
    admin_up = models.BooleanField(default=True)
    primary_node = models.CharField(max_length=255, blank=True, default="")
    secondary_nodes = models.JSONField(default=list, blank=True)
    vcpus = models.IntegerField(default=1)
    memory_mb = models.IntegerField(default=128)
    disk_template = models.CharField(max_length=32, blank=True, default="")
    disks = models.JSONField(default=list, blank=True)
    nics = models.JSONField(default=list, blank=True)
    os = models.CharField(max_length=128, blank=True, default="")
    fault = models.TextField(blank=True, default="", help_text="The cluster's reason for the last failure")
    progress = models.IntegerField(null=True, blank=True, help_text="0-100 while a job reports progress")
    backend_time = models.FloatField(default=0.0, help_text="Cluster time of the last applied event")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cluster__name", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="uniq_instance_per_cluster")]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.name}"


class Job(models.Model):
    """A job submitted to a cluster and followed by the watcher until it finishes.

    The row is written before the cluster is asked (status `submitting`), so a crash between the
    two leaves a trace the watcher can resolve. `lease_until` marks a watcher alive; an unfinished
    job whose lease expired is picked up again (a worker killed mid-job loses nothing).
    """

    class Status(models.TextChoices):
        SUBMITTING = "submitting", "Submitting"
        QUEUED = "queued", "Queued"
        WAITING = "waiting", "Waiting"
        RUNNING = "running", "Running"
        CANCELING = "canceling", "Canceling"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"
        CANCELED = "canceled", "Canceled"

    FINISHED = (Status.SUCCESS, Status.ERROR, Status.CANCELED)

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="jobs")
    job_id = models.CharField(max_length=64, blank=True, default="", help_text="The cluster's job id")
    operation = models.CharField(max_length=32)
    target = models.CharField(max_length=255, help_text="Instance or node name")
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTING)
    params = models.JSONField(default=dict, blank=True)
    log = models.JSONField(default=list, blank=True)
    last_log_serial = models.IntegerField(default=0)
    progress = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=255, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "lease_until"], name="job_unfinished_idx")]

    def __str__(self) -> str:
        return f"{self.cluster.name}#{self.job_id or '?'} {self.operation} {self.target}"

    @property
    def finished(self) -> bool:
        """True once the job reached a terminal status."""
        return self.status in self.FINISHED
