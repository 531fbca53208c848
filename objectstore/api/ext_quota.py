"""Swift's container and account quotas, kept as metadata and checked before an upload is stored.

`X-Container-Meta-Quota-Bytes` / `-Quota-Count` are set by the container's owner;
`X-Account-Meta-Quota-Bytes` only by a cloud admin (Swift's reseller admin). Over a quota the
upload answers 413 before any byte is read (or, for a chunked body, before it becomes visible).
These are on top of the project's `objectstore.bytes` quota in the identity ledger.
"""

from __future__ import annotations

from django.http import HttpRequest

from identity.models import Project
from objectstore.api.auth import SwiftCaller
from objectstore.models import Container
from objectstore.services import containers
from portal.errors import Forbidden, QuotaExceeded, ValidationFailed

QUOTA_BYTES = "Quota-Bytes"
QUOTA_COUNT = "Quota-Count"


def _limit(metadata: dict[str, str], key: str) -> int | None:
    """A quota from metadata (None when unset or unreadable)."""
    value = metadata.get(key, "")
    return int(value) if value.lstrip("-").isdigit() else None


def check_container_metadata(metadata: dict[str, str]) -> None:
    """400 unless container quota values being set are non-negative integers."""
    for key, what in ((QUOTA_BYTES, "bytes"), (QUOTA_COUNT, "count")):
        value = metadata.get(key)
        if value and not (value.isascii() and value.isdigit()):
            raise ValidationFailed(f"Invalid {what} quota.")


def check_account_metadata(request: HttpRequest, caller: SwiftCaller, metadata: dict[str, str]) -> None:
    """Only a cloud admin may set or remove account quotas; the byte quota must be an integer.

    Swift's newer headers (`X-Account-Quota-Bytes`, `-Count`, `-Policy-*` and their
    `X-Remove-` forms) are refused the same way; an admin's `X-Account-Quota-Bytes` is stored
    as the `Quota-Bytes` metadata the checks read.
    """
    newer = [key for key in request.META if key.startswith(("HTTP_X_ACCOUNT_QUOTA_", "HTTP_X_REMOVE_ACCOUNT_QUOTA_"))]
    if QUOTA_BYTES not in metadata and not newer:
        return
    if caller.ctx is None or not caller.ctx.is_admin:
        raise Forbidden("Access was denied to this resource.")
    if "HTTP_X_ACCOUNT_QUOTA_BYTES" in request.META:
        metadata[QUOTA_BYTES] = request.META["HTTP_X_ACCOUNT_QUOTA_BYTES"].strip()
    if "HTTP_X_REMOVE_ACCOUNT_QUOTA_BYTES" in request.META:
        metadata[QUOTA_BYTES] = ""
    value = metadata.get(QUOTA_BYTES, "")
    if value and not (value.isascii() and value.isdigit()):
        raise ValidationFailed("Invalid bytes quota.")


def check_upload(project: Project, container: Container, name: str, nbytes: int) -> None:
    """413 if storing `nbytes` more as `name` would break the container's or the account's quota."""
    bytes_limit = container.quota_bytes if container.quota_bytes is not None else None
    count_limit = container.quota_count if container.quota_count is not None else None
    bytes_limit = _limit(container.metadata, QUOTA_BYTES) if bytes_limit is None else bytes_limit
    count_limit = _limit(container.metadata, QUOTA_COUNT) if count_limit is None else count_limit
    if bytes_limit is not None or count_limit is not None:
        usage = containers.container_usage(container)
        if bytes_limit is not None and usage.bytes + nbytes > bytes_limit:
            raise QuotaExceeded("Upload exceeds quota.")
        if count_limit is not None and usage.objects + 1 > count_limit:
            raise QuotaExceeded("Upload exceeds quota.")
    account_limit = _limit(containers.account_metadata(project), QUOTA_BYTES)
    if account_limit is not None and containers.account_usage(project).bytes + nbytes > account_limit:
        raise QuotaExceeded("Upload exceeds quota.")
