"""Domain errors of backend_ganeti's services (mapped to API faults by each API layer)."""

from __future__ import annotations

from portal.errors import Conflict, DomainError, InvalidState, NotFound


class ClusterOffline(Conflict):
    """The cluster is offline (admin state) or unreachable: no operation is sent to it."""


class ClusterDrained(Conflict):
    """The cluster accepts no new instances."""


class NoCapacity(DomainError):
    """No enabled cluster can hold the instance (filters or free capacity)."""

    status = 503
    title = "No Valid Host"


class ClusterError(DomainError):
    """The cluster refused or failed an operation; the message is the cluster's reason."""

    status = 502
    title = "Cluster Error"


__all__ = ["ClusterDrained", "ClusterError", "ClusterOffline", "InvalidState", "NoCapacity", "NotFound"]
