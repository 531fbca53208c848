"""The base of every Cinder view: microversion, token, project in the URL, reader rule, helpers.

Cinder's URLs carry the project (`/volume/v3/{project_id}/...`): it must be the token's project
(an admin may name any existing project); anything else is a 404, like a foreign object. Faults
have Nova's shape (`{"badRequest": {"code": 400, "message": ...}}`). The microversion header
(`OpenStack-API-Version: volume 3.x`) is parsed first and echoed on every answer.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.cache import patch_vary_headers
from rest_framework.request import Request

from compute.api.base import JSONOnly
from identity.api.keystone.base import _has_nul
from identity.api.keystone.render import base_url
from identity.models import Project
from portal.api.openstack import FaultStyle, OpenStackView
from portal.errors import DomainError, Forbidden, NotFound, ValidationFailed

# The one microversion served: Cinder's 3.0 base (docs/volume.md).
MIN_VERSION = MAX_VERSION = "3.0"
HEADER = "OpenStack-API-Version"
SERVICE = "volume"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_VERSION_RE = re.compile(r"^3\.(0|[1-9][0-9]*)$")


class NotAcceptable(DomainError):
    """A microversion outside what this API serves (Cinder's 406)."""

    status = 406
    title = "Not Acceptable"


def parse_version(header: str | None) -> str:
    """The requested volume microversion (3.0 when none is asked; 406 outside 3.0..MAX)."""
    if not header:
        return MIN_VERSION
    wanted = None
    for item in header.split(","):
        parts = item.strip().split()
        if len(parts) == 2 and parts[0].lower() == SERVICE:
            wanted = parts[1]
    if wanted is None:
        return MIN_VERSION
    if wanted.lower() == "latest":
        return MAX_VERSION
    if not _VERSION_RE.match(wanted):
        if re.match(r"^\d+\.\d+$", wanted):
            raise NotAcceptable(
                f"Version {wanted} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
            )
        raise ValidationFailed(
            f"API Version String {wanted} is of invalid format. Must be of format MajorNum.MinorNum."
        )
    if tuple(int(p) for p in wanted.split(".")) > tuple(int(p) for p in MAX_VERSION.split(".")):
        raise NotAcceptable(
            f"Version {wanted} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
        )
    return wanted


def volume_root(request: HttpRequest) -> str:
    """`<public base>/volume`."""
    return f"{base_url(request)}/volume"


class CinderView(OpenStackView):
    """Base of the authenticated Cinder views (every route has `project_id`)."""

    fault_style = FaultStyle.NOVA
    content_negotiation_class = JSONOnly
    api_version = MIN_VERSION
    project: Project

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Microversion, token, project scope and URL project, reader rule."""
        self.api_version = parse_version(request.headers.get(HEADER))
        super().initial(request, *args, **kwargs)
        ctx = self.ctx()
        if not ctx.project_id:
            raise Forbidden("A project-scoped token is required.")
        wanted = str(kwargs.get("project_id") or ctx.project_id)
        project = Project.objects.filter(pk=wanted).first()
        if project is None or (wanted != ctx.project_id and not ctx.is_admin):
            raise NotFound("The resource could not be found.")
        self.project = project
        if not self.reads_only(request) and ctx.is_reader_only:
            raise Forbidden(f"Policy doesn't allow {request.method} by a reader to be performed.")

    def reads_only(self, request: Request) -> bool:
        """Whether the request changes nothing (what a reader may send): the safe methods."""
        return request.method in SAFE_METHODS

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Echo the microversion."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response[HEADER] = f"{SERVICE} {self.api_version}"
        patch_vary_headers(response, (HEADER,))
        return response

    @property
    def actor(self) -> Any:
        """The caller as services record it."""
        return self.request.user

    def require_admin(self) -> None:
        """403 unless the token is an admin's."""
        if not self.ctx().is_admin:
            raise Forbidden("Policy doesn't allow this operation to be performed.")


def body_of(request: Request) -> dict[str, Any]:
    """The JSON body as an object (Cinder's 400 otherwise, and for NUL characters)."""
    data = request.data
    if not isinstance(data, dict):
        raise ValidationFailed("Malformed request body: the body must be a JSON object.")
    if _has_nul(data):
        raise ValidationFailed("NUL characters are not allowed in the request body.")
    return data


def entity(request: Request, key: str) -> dict[str, Any]:
    """`body[key]`, which must be an object (Cinder's message otherwise)."""
    data = body_of(request)
    if not isinstance(data.get(key), dict):
        raise ValidationFailed(f"Missing required element '{key}' in request body.")
    return data[key]


def text(item: dict[str, Any], key: str, *, limit: int = 255) -> str | None:
    """An optional string field (None when absent or null), at most `limit` characters."""
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"Invalid input for field/attribute {key}. Value: {value}. It is not a string.")
    if len(value) > limit:
        raise ValidationFailed(f"Invalid input for field/attribute {key}. It is longer than {limit} characters.")
    return value


def metadata_of(value: Any, key: str = "metadata") -> dict[str, str]:
    """A metadata object of string keys and values (Cinder's limits: 255 characters each)."""
    if not isinstance(value, dict):
        raise ValidationFailed(f"Invalid input for field/attribute {key}. It is not an object.")
    for name, item in value.items():
        if not name or len(name) > 255:
            raise ValidationFailed("Invalid input received: metadata keys must be 1 to 255 characters.")
        if not isinstance(item, str) or len(item) > 255:
            raise ValidationFailed(
                f"Invalid input received: the value of metadata key {name} must be a string of at most 255 characters."
            )
    return dict(value)
