"""Ganeti RAPI v2: a typed client, its error types and the shapes it returns."""

from backend_ganeti.rapi.client import RapiClient
from backend_ganeti.rapi.errors import (
    AuthenticationFailed,
    BadRequest,
    ClusterUnreachable,
    Conflict,
    GanetiApiError,
    JobFailed,
    NotFound,
    RapiError,
    ServiceUnavailable,
)
from backend_ganeti.rapi.models import ClusterInfo, Group, Instance, InstanceSpec, Job, JobChange, Network, Node

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "ClusterInfo",
    "ClusterUnreachable",
    "Conflict",
    "GanetiApiError",
    "Group",
    "Instance",
    "InstanceSpec",
    "Job",
    "JobChange",
    "JobFailed",
    "Network",
    "Node",
    "NotFound",
    "RapiClient",
    "RapiError",
    "ServiceUnavailable",
]
