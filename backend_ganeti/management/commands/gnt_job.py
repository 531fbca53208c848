"""`manage.py gnt_job`: the jobs Nefos submitted to its clusters, their status, progress and log.

IDs are the portal's job ids (the first column of `gnt_job list`); `cluster/JOBID` names a job by
the cluster's own id, as `gnt-job` on that cluster shows it.
"""

from __future__ import annotations

from typing import Any

from backend_ganeti import selectors
from backend_ganeti.management.cli import GntCommand, cluster_option, require
from backend_ganeti.management.tables import Column, Kind, add_table_arguments, render_from_options
from backend_ganeti.models import Job
from backend_ganeti.services import operations
from portal.errors import NotFound

COLUMNS = [
    Column("id", "ID", lambda j: j.pk, Kind.NUMBER),
    Column("cluster", "Cluster", lambda j: j.cluster.name),
    Column("job_id", "JobID", lambda j: j.job_id or "-"),
    Column("status", "Status", lambda j: j.status),
    Column("operation", "Operation", lambda j: j.operation),
    Column("target", "Target", lambda j: j.target),
    Column("summary", "Summary", lambda j: f"{j.operation}({j.target})"),
    Column("progress", "Progress", lambda j: "-" if j.progress is None else f"{j.progress}%", Kind.NUMBER),
    Column("actor", "Actor", lambda j: j.actor or "-"),
    Column("created", "Created", lambda j: j.created_at),
    Column("started", "Started", lambda j: j.started_at or "-"),
    Column("ended", "Ended", lambda j: j.ended_at or "-"),
    Column("error", "Error", lambda j: j.error.splitlines()[0] if j.error else ""),
]
DEFAULT = ["id", "cluster", "job_id", "status", "operation", "target", "created"]


def find_job(ref: str) -> Job:
    """A job by portal id, or `cluster/JOBID` by the cluster's id."""
    if "/" in ref:
        cluster_name, _, job_id = ref.partition("/")
        job = selectors.jobs(cluster=selectors.cluster_named(cluster_name)).filter(job_id=job_id).first()
        if job is None:
            raise NotFound(f"Could not find job {job_id} on cluster {cluster_name}.")
        return job
    return selectors.job_by_pk(ref)


class Command(GntCommand):
    """Job inspection."""

    help = "Inspect jobs: list, info (with the log), cancel."

    def add_subcommands(self, subparsers: Any) -> None:
        listing = self.subcommand(subparsers, "list", self.list_, "List jobs, newest first.")
        listing.add_argument("--cluster", default=None, help="Only this cluster's jobs.")
        listing.add_argument(
            "--status", default="", help=f"Only these statuses, comma-separated ({','.join(Job.Status.values)})."
        )
        listing.add_argument("--operation", default=None, help="Only this operation (e.g. migrate).")
        listing.add_argument("--limit", type=int, default=50, help="At most this many jobs (0: all).")
        add_table_arguments(listing, COLUMNS, DEFAULT)

        info = self.subcommand(subparsers, "info", self.info, "Show a job and its log.")
        info.add_argument("id", help="Portal job id, or cluster/JOBID.")
        cancel = self.subcommand(subparsers, "cancel", self.cancel, "Ask the cluster to cancel a job.")
        cancel.add_argument("id", help="Portal job id, or cluster/JOBID.")

    def list_(self, options: dict[str, Any]) -> None:
        """The job table."""
        statuses = [s.strip() for s in options["status"].split(",") if s.strip()]
        unknown = [s for s in statuses if s not in Job.Status.values]
        require(not unknown, f"Unknown job status(es): {', '.join(unknown)}. Known: {', '.join(Job.Status.values)}.")
        rows = selectors.jobs(cluster=cluster_option(options), statuses=statuses, operation=options["operation"])
        if options["limit"] > 0:
            rows = rows[: options["limit"]]
        self.lines(render_from_options(COLUMNS, DEFAULT, rows, options))

    def info(self, options: dict[str, Any]) -> None:
        """A job's fields and its log, like `gnt-job info`."""
        job = find_job(options["id"])
        self.pairs(
            [
                ("Job ID", job.pk),
                ("Cluster", job.cluster.name),
                ("Cluster job ID", job.job_id or "(not submitted yet)"),
                ("Status", job.status),
                ("Operation", job.operation),
                ("Target", job.target),
                ("Instance", str(job.instance) if job.instance_id else "-"),
                ("Parameters", ", ".join(f"{k}={v}" for k, v in sorted(job.params.items())) or "-"),
                ("Progress", "-" if job.progress is None else f"{job.progress}%"),
                ("Submitted by", job.actor or "system"),
                ("Received", job.created_at.isoformat()),
                ("Started", job.started_at.isoformat() if job.started_at else "-"),
                ("Ended", job.ended_at.isoformat() if job.ended_at else "-"),
            ]
        )
        if job.error:
            self.stdout.write(f"Error: {job.error}")
        lines = selectors.job_log(job)
        self.stdout.write(f"Log ({len(lines)} entr{'y' if len(lines) == 1 else 'ies'}):")
        for line in lines:
            stamp = line.time.strftime("%Y-%m-%d %H:%M:%S") if line.time else "-"
            self.stdout.write(f"  {line.serial:>4} {stamp} {line.kind}: {line.message}".rstrip())

    def cancel(self, options: dict[str, Any]) -> None:
        """Submit a cancellation."""
        job = operations.cancel_job(find_job(options["id"]), actor=self.actor)
        self.stdout.write(f"Job {job.pk} on cluster {job.cluster.name}: status {job.status}.")
