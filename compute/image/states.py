"""The image state table: which action moves an image from which statuses to which one.

Glance's statuses; `uploading`/`importing` (interoperable import) and `killed`/`pending_delete`
(never entered here: a failed upload goes back to `queued`, a delete removes the row) are kept
in the enum so the schema lists what Glance lists.
"""

from __future__ import annotations

import enum

from django.db import models

from portal.errors import Forbidden, InvalidState


class Status(models.TextChoices):
    """Glance's image statuses."""

    QUEUED = "queued"
    SAVING = "saving"
    ACTIVE = "active"
    KILLED = "killed"
    DELETED = "deleted"
    UPLOADING = "uploading"
    IMPORTING = "importing"
    PENDING_DELETE = "pending_delete"
    DEACTIVATED = "deactivated"


class Action(enum.Enum):
    """What can happen to an image's status."""

    BEGIN_UPLOAD = "begin_upload"
    FINISH_UPLOAD = "finish_upload"
    ABORT_UPLOAD = "abort_upload"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"


TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.BEGIN_UPLOAD: (frozenset({Status.QUEUED}), Status.SAVING),
    Action.FINISH_UPLOAD: (frozenset({Status.SAVING}), Status.ACTIVE),
    Action.ABORT_UPLOAD: (frozenset({Status.SAVING}), Status.QUEUED),
    # Glance treats deactivating a deactivated image (and reactivating an active one) as a no-op.
    Action.DEACTIVATE: (frozenset({Status.ACTIVE, Status.DEACTIVATED}), Status.DEACTIVATED),
    Action.REACTIVATE: (frozenset({Status.DEACTIVATED, Status.ACTIVE}), Status.ACTIVE),
}

# Glance answers 403 (not 409) for deactivate/reactivate in a wrong status.
_FORBIDDEN_WHEN_INVALID = frozenset({Action.DEACTIVATE, Action.REACTIVATE})


def next_status(current: str, action: Action) -> Status:
    """The status `action` leads to from `current`; InvalidState (409) or Forbidden (403) otherwise."""
    allowed, target = TRANSITIONS[action]
    if current in allowed:
        return target
    if action in _FORBIDDEN_WHEN_INVALID:
        raise Forbidden(f"Not allowed to {action.value} image in status '{current}'")
    raise InvalidState(f"Image status transition from {current} to {target.value} is not allowed")
