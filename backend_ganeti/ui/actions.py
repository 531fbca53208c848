"""The confirmed actions of the cluster admin pages: what each asks, which form it takes, which service it calls.

One table per target kind (cluster, node, instance). Actions that submit a cluster job return the
Job (the page then shows its progress); cluster state changes and refreshes return the Cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend_ganeti.models import Cluster, Job
from backend_ganeti.services import clusters as cluster_service
from backend_ganeti.services import operations
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.ui import forms as f

Runner = Callable[[Any, dict[str, Any], Any], Job | Cluster]
Available = Callable[[Any], bool]


def _always(_target: Any) -> bool:
    return True


@dataclass(frozen=True)
class ActionSpec:
    """A button, its confirmation question and what it runs."""

    label: str
    question: str  # formatted with {target}
    explain: str
    style: str  # Bootstrap colour of the button
    run: Runner
    form: type[f.ActionForm] = f.ActionForm
    available: Available = _always

    def ask(self, target: Any) -> str:
        """The confirmation question for this target."""
        return self.question.format(target=target)


def _state(state: str) -> Runner:
    def run(cluster: Cluster, _options: dict[str, Any], actor: Any) -> Cluster:
        return cluster_service.set_cluster_state(cluster, state, actor=actor)

    return run


CLUSTER_ACTIONS: dict[str, ActionSpec] = {
    "drain": ActionSpec(
        "Drain",
        "Drain cluster {target}?",
        "The allocator places no new instances on it; existing instances keep running and can be operated.",
        "warning",
        _state(Cluster.State.DRAINED),
        available=lambda c: c.state == Cluster.State.ENABLED,
    ),
    "undrain": ActionSpec(
        "Undrain",
        "Undrain cluster {target}?",
        "The allocator may place new instances on it again.",
        "success",
        _state(Cluster.State.ENABLED),
        available=lambda c: c.state == Cluster.State.DRAINED,
    ),
    "offline": ActionSpec(
        "Take offline",
        "Take cluster {target} offline?",
        "No operation is sent to it: starts, stops, migrations and new instances are refused until it is online.",
        "danger",
        _state(Cluster.State.OFFLINE),
        available=lambda c: c.state != Cluster.State.OFFLINE,
    ),
    "online": ActionSpec(
        "Bring online",
        "Bring cluster {target} online?",
        "Operations are sent to it again and the allocator may use it.",
        "success",
        _state(Cluster.State.ENABLED),
        available=lambda c: c.state == Cluster.State.OFFLINE,
    ),
    "refresh": ActionSpec(
        "Refresh",
        "Refresh cluster {target} now?",
        "Nodes, node groups and capacity are read from the cluster again.",
        "primary",
        lambda cluster, _options, _actor: cluster_service.refresh_cluster(cluster),
    ),
}

NODE_ACTIONS: dict[str, ActionSpec] = {
    "evacuate": ActionSpec(
        "Evacuate",
        "Evacuate node {target}?",
        "Its instances are moved to other nodes of the cluster (the cluster's allocator picks them).",
        "danger",
        lambda node, options, actor: operations.evacuate_node(node, mode=options["mode"], actor=actor),
        form=f.EvacuateForm,
        available=lambda n: not n.offline,
    ),
    "drain": ActionSpec(
        "Drain",
        "Drain node {target}?",
        "No new instances are placed on it; its instances stay until you evacuate it.",
        "warning",
        lambda node, _options, actor: operations.set_node_drained(node, True, actor=actor),
        available=lambda n: not n.drained and not n.offline,
    ),
    "undrain": ActionSpec(
        "Undrain",
        "Undrain node {target}?",
        "New instances may be placed on it again.",
        "success",
        lambda node, _options, actor: operations.set_node_drained(node, False, actor=actor),
        available=lambda n: n.drained,
    ),
}


def _allows(op: Operation) -> Available:
    """Whether the service's state table lets `op` run on the instance now (the rule is written once)."""
    return lambda instance: instance.status in operations.ALLOWED[op]


INSTANCE_ACTIONS: dict[str, ActionSpec] = {
    "migrate": ActionSpec(
        "Migrate",
        "Migrate instance {target}?",
        "A live migration moves the running guest to another node without stopping it.",
        "primary",
        lambda inst, options, actor: operations.migrate_instance(inst, **options, actor=actor),
        form=f.MigrateForm,
        available=_allows(Operation.MIGRATE),
    ),
    "failover": ActionSpec(
        "Failover",
        "Fail instance {target} over?",
        "The guest is stopped and started again on its secondary node (it reboots).",
        "warning",
        lambda inst, options, actor: operations.failover_instance(inst, **options, actor=actor),
        form=f.FailoverForm,
        available=_allows(Operation.FAILOVER),
    ),
    "start": ActionSpec(
        "Start",
        "Start instance {target}?",
        "The guest is powered on.",
        "success",
        lambda inst, _options, actor: operations.start_instance(inst, actor=actor),
        available=_allows(Operation.START),
    ),
    "stop": ActionSpec(
        "Stop",
        "Stop instance {target}?",
        "The guest is asked to shut down, then powered off after the timeout.",
        "danger",
        lambda inst, options, actor: operations.stop_instance(inst, timeout=options.get("timeout"), actor=actor),
        form=f.StopForm,
        available=_allows(Operation.STOP),
    ),
    "reboot": ActionSpec(
        "Reboot",
        "Reboot instance {target}?",
        "The guest is rebooted (a hard reboot power-cycles it).",
        "warning",
        lambda inst, options, actor: operations.reboot_instance(inst, hard=options["hard"], actor=actor),
        form=f.RebootForm,
        available=_allows(Operation.REBOOT),
    ),
}

JOB_ACTIONS: dict[str, ActionSpec] = {
    "cancel": ActionSpec(
        "Cancel",
        "Cancel job {target}?",
        "The cluster is asked to cancel the job; a job that already started its work may not stop.",
        "danger",
        lambda job, _options, actor: operations.cancel_job(job, actor=actor),
        available=lambda j: not j.finished,
    ),
}


def available(actions: dict[str, ActionSpec], target: Any) -> list[tuple[str, ActionSpec]]:
    """The actions that apply to `target` in its current state, in table order."""
    return [(key, spec) for key, spec in actions.items() if spec.available(target)]
