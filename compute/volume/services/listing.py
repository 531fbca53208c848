"""Read helpers other apps use to show volumes (one query per page, never one per server)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from compute.volume.models import Volume

# Statuses in which a volume counts as attached to its server (Nova lists them).
ATTACHED = ("attaching", "in-use", "detaching")


def attached_volumes(server_ids: Iterable[Any]) -> dict[str, list[str]]:
    """{server id: [ids of the volumes attached to it]} for a page of servers, in attachment order."""
    found: dict[str, list[str]] = defaultdict(list)
    rows = Volume.objects.filter(server_id__in=list(server_ids), status__in=ATTACHED).order_by("attached_at", "id")
    for server_id, volume_id in rows.values_list("server_id", "id"):
        found[str(server_id)].append(str(volume_id))
    return found
