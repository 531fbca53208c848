"""Typed errors of the Ganeti RAPI client; each carries the cluster's own message."""

from __future__ import annotations


class RapiError(Exception):
    """Base of every error the RAPI client raises."""

    def __init__(self, message: str, *, cluster: str = "") -> None:
        super().__init__(f"{cluster}: {message}" if cluster else message)
        self.message = message
        self.cluster = cluster


class ClusterUnreachable(RapiError):
    """The RAPI endpoint could not be reached (connection refused, timeout, TLS failure)."""


class NotSupported(RapiError):
    """The cluster kind cannot do what was asked at all (e.g. read a disk's bytes on Ganeti)."""


class GanetiApiError(RapiError):
    """RAPI answered with an HTTP error; ``status`` and the cluster's ``message``/``explain``."""

    def __init__(self, status: int, message: str, *, explain: str = "", cluster: str = "") -> None:
        text = f"{status} {message}" + (f" ({explain})" if explain and explain != message else "")
        super().__init__(text, cluster=cluster)
        self.status = status
        self.message = message
        self.explain = explain


class BadRequest(GanetiApiError):
    """400: the cluster rejected the parameters (the message says which)."""


class AuthenticationFailed(GanetiApiError):
    """401/403: wrong RAPI credentials, or a read-only user asked to write."""


class NotFound(GanetiApiError):
    """404: no such instance, node, group, network or job."""


class Conflict(GanetiApiError):
    """409: the object exists already or is in a state that forbids the request."""


class ServiceUnavailable(GanetiApiError):
    """502/503/504: the master daemon is busy, restarting or failing over."""


class JobFailed(RapiError):
    """A job finished with status ``error`` or ``canceled``; ``job`` holds its last state."""

    def __init__(self, job_id: int, status: str, message: str, *, cluster: str = "") -> None:
        super().__init__(f"job {job_id} {status}: {message}", cluster=cluster)
        self.job_id = job_id
        self.status = status
        self.message = message


_BY_STATUS: dict[int, type[GanetiApiError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: AuthenticationFailed,
    404: NotFound,
    409: Conflict,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}


def error_for(status: int, message: str, *, explain: str = "", cluster: str = "") -> GanetiApiError:
    """The most specific GanetiApiError subclass for an HTTP status."""
    return _BY_STATUS.get(status, GanetiApiError)(status, message, explain=explain, cluster=cluster)
