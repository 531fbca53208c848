"""Admin pages for jobs: the filtered list, and one job with a live log (admins only).

The job page polls a small partial every 2 s with htmx while the job is unfinished; the partial
a finished job returns has no trigger, so polling stops by itself.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from backend_ganeti import selectors
from backend_ganeti.models import Job
from backend_ganeti.ui.actions import JOB_ACTIONS, available
from backend_ganeti.ui.forms import JobFilter
from backend_ganeti.ui.tables import JobTable
from portal.ui.forms import bootstrap
from portal.ui.nav import admin_required, render_page
from portal.ui.tables import configure

POLL_SECONDS = 2


@admin_required
def job_list(request: HttpRequest) -> HttpResponse:
    """Jobs of every cluster, newest first, filtered by cluster, status, operation and target."""
    job_filter = JobFilter(request.GET or None, queryset=selectors.jobs())
    bootstrap(job_filter.form)
    table = configure(request, JobTable(job_filter.qs, request=request))
    unfinished = Job.objects.exclude(status__in=Job.FINISHED).count()
    return render_page(
        request, "backend_ganeti/jobs.html", {"filter": job_filter, "table": table, "unfinished": unfinished}
    )


def _live_context(job: Job) -> dict[str, object]:
    return {"job": job, "lines": selectors.job_log(job), "poll_seconds": POLL_SECONDS}


@admin_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: what it does, to what, who asked, and its live status, progress and log."""
    job = get_object_or_404(Job.objects.select_related("cluster", "instance"), pk=pk)
    context = {**_live_context(job), "actions": available(JOB_ACTIONS, job)}
    return render_page(request, "backend_ganeti/job_detail.html", context)


@admin_required
def job_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The status, progress bar and log of one job (the partial the job page polls)."""
    job = get_object_or_404(Job.objects.select_related("cluster"), pk=pk)
    return render(request, "backend_ganeti/_job_live.html", _live_context(job))
