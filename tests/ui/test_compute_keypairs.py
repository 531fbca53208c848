"""Key pair pages: import a public key, generate a pair (private key shown once), delete; another
user's key pair is a 404."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compute.models import Keypair
from compute.services.keypairs import create_keypair

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = pytest.mark.django_db


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_keypair_import_stores_key_when_valid(carol, carol_client):
    response = carol_client.post("/cloud/keypairs/new/", {"name": "laptop", "public_key": _public_key()})
    assert response.status_code == 302
    keypair = Keypair.objects.get(user_id=carol.pk, name="laptop")
    assert keypair.fingerprint.count(":") == 15
    assert "laptop" in carol_client.get("/cloud/keypairs/").content.decode()


def test_keypair_import_is_400_with_message_when_key_invalid(carol, carol_client):
    response = carol_client.post("/cloud/keypairs/new/", {"name": "bad", "public_key": "ssh-rsa nope"})
    assert response.status_code == 400
    assert "Keypair data is invalid" in response.content.decode()
    assert not Keypair.objects.filter(user_id=carol.pk).exists()


def test_keypair_generate_shows_private_key_once_when_no_key_given(carol, carol_client):
    response = carol_client.post("/cloud/keypairs/new/", {"name": "fresh"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "BEGIN OPENSSH PRIVATE KEY" in html
    assert "no-store" in response.get("Cache-Control", "") or "max-age=0" in response.get("Cache-Control", "")
    keypair = Keypair.objects.get(user_id=carol.pk, name="fresh")
    assert "PRIVATE" not in keypair.public_key
    assert "PRIVATE KEY" not in carol_client.get("/cloud/keypairs/").content.decode()


def test_keypair_create_shows_conflict_when_name_taken(carol, carol_client):
    carol_client.post("/cloud/keypairs/new/", {"name": "dup"})
    response = carol_client.post("/cloud/keypairs/new/", {"name": "dup"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_keypair_delete_is_404_when_keypair_belongs_to_another_user(carol, carol_client, dave):
    create_keypair(carol.pk, "mine", actor=carol)
    create_keypair(dave.pk, "theirs", actor=dave)
    assert carol_client.post("/cloud/keypairs/theirs/delete/").status_code == 404
    assert Keypair.objects.filter(user_id=dave.pk, name="theirs").exists()
    assert "theirs" not in carol_client.get("/cloud/keypairs/").content.decode()
    assert carol_client.post("/cloud/keypairs/mine/delete/").status_code == 302
    assert not Keypair.objects.filter(user_id=carol.pk).exists()
