"""`manage.py bootstrap` lets the compute apps seed their defaults, idempotently."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from compute.image.models import Image
from compute.network.models import Network

pytestmark = pytest.mark.django_db


def bootstrap(monkeypatch) -> str:
    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", "bootstrap-secret-1")
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


def test_bootstrap_seeds_public_image_and_network_once_when_run_twice(monkeypatch):
    first = bootstrap(monkeypatch)
    second = bootstrap(monkeypatch)

    image = Image.objects.get(visibility="public")
    assert image.status == "active" and image.size and image.project.name == "admin"
    network = Network.objects.get(name="public")
    assert network.external and network.is_default
    assert "public image" in first and "external network public" in first
    assert Image.objects.count() == 1 and Network.objects.filter(name="public").count() == 1
    assert "public image" in second
