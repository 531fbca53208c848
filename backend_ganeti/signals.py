"""Signals backend_ganeti sends to the rest of the portal (compute listens to follow its servers).

`instance_changed` is sent once per applied event, after the transaction that applied it commits:
``instance_changed.send(sender=Instance, instance=<Instance row>, event=<InstanceEvent>)``.
Receivers read `instance.status`, `fault` and `progress`; they must not assume an event per job
step (events older than the last applied one are dropped and send nothing).
"""

from __future__ import annotations

from django.dispatch import Signal

instance_changed = Signal()

__all__ = ["instance_changed"]
