"""Server-group node hints in placement (pure rules) and in the allocator (clusters and nodes)."""

from __future__ import annotations

import pytest

from backend_ganeti.errors import NoCapacity
from backend_ganeti.models import Node
from backend_ganeti.services import allocation
from backend_ganeti.services.placement import (
    ClusterCapacity,
    NodeCapacity,
    NodeHints,
    Request,
    pick_node,
    rank_with_hints,
)
from tests.backend_ganeti.backend_factories import make_cluster

REQ = Request(vcpus=1, memory_mb=512, disk_mb=1024, disk_template="file")


def nodes(*free: int) -> list[NodeCapacity]:
    return [NodeCapacity(f"n{i + 1}", mem, 10**6, 64) for i, mem in enumerate(free)]


def test_pick_node_keeps_anti_affinity_on_roomiest_free_node_or_refuses_when_strict():
    hints = NodeHints({("c", "n1"): 1}, affinity=False, strict=True)
    assert pick_node("c", nodes(4096, 1024, 2048), REQ, hints).node == "n3"
    assert pick_node("c", nodes(4096), REQ, hints) is None
    soft = NodeHints({("c", "n1"): 2, ("c", "n2"): 1}, affinity=False, strict=False)
    choice = pick_node("c", nodes(4096, 1024), REQ, soft)
    assert (choice.node, choice.broken) == ("n2", True)


def test_pick_node_keeps_affinity_on_members_node_or_refuses_when_strict():
    hints = NodeHints({("c", "n2"): 1}, affinity=True, strict=True)
    assert pick_node("c", nodes(4096, 1024), REQ, hints).node == "n2"
    assert pick_node("c", nodes(4096, 100), REQ, hints) is None
    assert pick_node("other", nodes(4096), REQ, hints) is None  # the members are on cluster c
    first = NodeHints({}, affinity=True, strict=True)
    assert pick_node("c", nodes(1024, 4096), REQ, first).node == "n2"
    soft = NodeHints({("c", "n2"): 1}, affinity=True, strict=False)
    assert pick_node("c", nodes(4096, 100), REQ, soft) == pick_node("c", nodes(4096, 100), REQ, soft)
    assert pick_node("c", nodes(4096, 100), REQ, soft).broken


def test_rank_with_hints_puts_clusters_keeping_soft_hints_first():
    caps = [ClusterCapacity(name, key=name, mem_total_mb=10**5, mem_free_mb=10**5, cpu_total=64) for name in "ab"]
    hints = NodeHints({("a", "n1"): 1}, affinity=False, strict=False)
    ranked = rank_with_hints(caps, {"a": nodes(4096), "b": nodes(4096)}, REQ, hints)
    assert [(cap.name, choice.broken) for cap, choice in ranked] == [("b", False), ("a", True)]


@pytest.mark.django_db
def test_choose_placement_follows_affinity_to_members_cluster_and_node():
    big, small = make_cluster("big"), make_cluster("small", mem_total_mb=8192, mem_free_mb=8192)
    for cluster in (big, small):
        Node.objects.create(cluster=cluster, name="n1", mfree=4096, dfree=10**6)
        Node.objects.create(cluster=cluster, name="n2", mfree=4096, dfree=10**6)
    request = allocation.request_for(None, vcpus=1, memory_mb=512, disk_mb=1024, disk_template="file")
    assert allocation.choose_placement(request).cluster.name == "big"
    chosen = allocation.choose_placement(request, NodeHints({("small", "n2"): 1}, affinity=True, strict=True))
    assert (chosen.cluster.name, chosen.node) == ("small", "n2")
    Node.objects.filter(cluster=small, name="n2").update(mfree=10)
    with pytest.raises(NoCapacity) as caught:
        allocation.choose_placement(request, NodeHints({("small", "n2"): 1}, affinity=True, strict=True))
    assert caught.value.detail["clusters"]["small"] == "affinity"
    assert allocation.node_for(big, request, NodeHints({("big", "n1"): 1}, affinity=False, strict=True)) == "n2"
