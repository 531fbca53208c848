"""Key pairs: generate and import (SSH and X.509), fingerprints, per-user scope, microversion shapes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compute.models import Keypair
from compute.services.keypairs import MAX_KEYPAIRS, x509_fingerprint
from tests.compute.helpers import fault
from tests.factories import UserFactory, assign

pytestmark = pytest.mark.django_db


def openssh_public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " me@host"


def md5_fingerprint(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def test_generate_returns_private_key_once_and_stores_public_key(nova):
    response = nova.post("/os-keypairs", {"keypair": {"name": "gen"}})
    assert response.status_code == 201
    body = response.json()["keypair"]
    assert body["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert body["public_key"].startswith("ssh-ed25519 ") and body["type"] == "ssh"
    assert body["fingerprint"] == md5_fingerprint(body["public_key"]) and body["user_id"] == nova.user.pk
    shown = nova.get("/os-keypairs/gen").json()["keypair"]
    assert "private_key" not in shown and shown["public_key"] == body["public_key"] and shown["deleted"] is False


def test_import_keeps_given_key_with_nova_fingerprint(nova):
    public_key = openssh_public_key()
    body = nova.post("/os-keypairs", {"keypair": {"name": "imp", "public_key": public_key}}).json()["keypair"]
    assert "private_key" not in body and body["fingerprint"] == md5_fingerprint(public_key)
    assert nova.get("/os-keypairs").json()["keypairs"][0]["keypair"]["name"] == "imp"


def test_x509_pair_is_generated_and_imported_when_type_x509(nova):
    generated = nova.post("/os-keypairs", {"keypair": {"name": "cert", "type": "x509"}}).json()["keypair"]
    assert generated["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert generated["fingerprint"] == x509_fingerprint(generated["public_key"])
    imported = nova.post(
        "/os-keypairs", {"keypair": {"name": "cert2", "type": "x509", "public_key": generated["public_key"]}}
    )
    assert imported.status_code == 201 and imported.json()["keypair"]["type"] == "x509"


def test_v21_shapes_use_200_and_202_without_type(nova):
    created = nova.post("/os-keypairs", {"keypair": {"name": "old"}}, version="2.1")
    assert created.status_code == 200 and "type" not in created.json()["keypair"]
    assert nova.post("/os-keypairs", {"keypair": {"name": "t", "type": "ssh"}}, version="2.1").status_code == 400
    assert nova.delete("/os-keypairs/old", version="2.1").status_code == 202
    assert nova.get("/os-keypairs/old").status_code == 404


@pytest.mark.parametrize(
    ("keypair", "code", "message"),
    [
        ({"name": "bad/name"}, 400, "unsafe characters"),
        ({"name": " pad"}, 400, "unsafe characters"),
        ({"name": ""}, 400, "unsafe characters"),
        ({"name": "k", "public_key": "ssh-rsa notbase64"}, 400, "Keypair data is invalid"),
        ({"name": "k", "public_key": "-----BEGIN CERTIFICATE-----", "type": "x509"}, 400, "Keypair data is invalid"),
        ({"name": "k", "public_key": 5}, 400, "public_key"),
        ({"name": "k", "type": "pgp"}, 400, "type"),
        ({"name": "k", "extra": 1}, 400, "Additional properties"),
        ({}, 400, "name"),
    ],
)
def test_create_refuses_invalid_key_pairs(nova, keypair, code, message):
    response = nova.post("/os-keypairs", {"keypair": keypair})
    assert response.status_code == code and message in fault(response)["message"]


def test_duplicate_name_is_409_for_same_user_but_free_for_another(nova, nova_for, project):
    assert nova.post("/os-keypairs", {"keypair": {"name": "dup"}}).status_code == 201
    response = nova.post("/os-keypairs", {"keypair": {"name": "dup"}})
    assert response.status_code == 409 and fault(response)["message"] == "Key pair 'dup' already exists."
    colleague = UserFactory()
    assign(colleague, project, "member", "reader")
    other = nova_for(colleague, project)
    assert other.post("/os-keypairs", {"keypair": {"name": "dup"}}).status_code == 201
    assert (
        other.get("/os-keypairs").json()["keypairs"][0]["keypair"]["fingerprint"]
        != (nova.get("/os-keypairs/dup").json()["keypair"]["fingerprint"])
    )


def test_keypairs_are_per_user_and_admin_may_name_user_id_from_210(nova, admin_nova):
    nova.post("/os-keypairs", {"keypair": {"name": "mine"}})
    assert admin_nova.get("/os-keypairs/mine").status_code == 404
    assert admin_nova.get(f"/os-keypairs/mine?user_id={nova.user.pk}").status_code == 200
    assert admin_nova.get(f"/os-keypairs/mine?user_id={nova.user.pk}", version="2.9").status_code == 404
    assert nova.get("/os-keypairs?user_id=someone-else").status_code == 403
    made = admin_nova.post("/os-keypairs", {"keypair": {"name": "foryou", "user_id": nova.user.pk}})
    assert made.json()["keypair"]["user_id"] == nova.user.pk
    assert nova.get("/os-keypairs/foryou").status_code == 200


def test_list_pages_by_name_from_235(nova):
    for name in ("a", "b", "c"):
        nova.post("/os-keypairs", {"keypair": {"name": name}})
    page = nova.get("/os-keypairs?limit=2").json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["a", "b"] and "keypairs_links" in page
    assert [k["keypair"]["name"] for k in nova.get("/os-keypairs?marker=b").json()["keypairs"]] == ["c"]
    assert nova.get("/os-keypairs?marker=zz").status_code == 400
    assert len(nova.get("/os-keypairs?limit=2", version="2.34").json()["keypairs"]) == 3


def test_create_is_403_when_user_has_too_many(nova):
    Keypair.objects.bulk_create(
        [Keypair(user_id=nova.user.pk, name=f"k{i}", public_key="x", fingerprint="f") for i in range(MAX_KEYPAIRS)]
    )
    assert nova.post("/os-keypairs", {"keypair": {"name": "one-more"}}).status_code == 403
