"""Errors of the image service that portal.errors has no class for."""

from __future__ import annotations

from portal.errors import DomainError


class Gone(DomainError):
    """The image was deleted while its data was being uploaded."""

    status = 410
    title = "Gone"


class RangeNotSatisfiable(DomainError):
    """A download's Range header does not overlap the image data."""

    status = 416
    title = "Requested Range Not Satisfiable"


class UnsupportedMediaType(DomainError):
    """An upload with a Content-Type other than application/octet-stream."""

    status = 415
    title = "Unsupported Media Type"
