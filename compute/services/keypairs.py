"""Key pairs: imported (an SSH public key or an X.509 certificate) or generated, per user.

Generated SSH keys are Ed25519 (the private key is returned once, in OpenSSH format, and never
stored); generated X.509 pairs are a self-signed RSA certificate. Fingerprints follow Nova: the
MD5 of the SSH key blob, or the SHA-1 of the certificate, as colon-separated hex.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction

from compute.models import Keypair
from portal import audit
from portal.errors import Conflict, Forbidden, NotFound, ValidationFailed

NAME = re.compile(r"^[_\- a-zA-Z0-9]+$")
MAX_KEYPAIRS = 100
GENERATED_COMMENT = "Generated-by-Nefos"


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def ssh_fingerprint(public_key: str) -> str:
    """Nova's fingerprint of an OpenSSH public key line; ValidationFailed when it is not one."""
    text = public_key.strip()
    try:
        serialization.load_ssh_public_key(text.encode())
        blob = base64.b64decode(text.split()[1], validate=True)
    except (ValueError, IndexError, UnsupportedAlgorithm, binascii.Error) as exc:
        raise ValidationFailed("Keypair data is invalid: failed to generate fingerprint") from exc
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    """Nova's fingerprint of a PEM certificate; ValidationFailed when it is not one."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError as exc:
        raise ValidationFailed("Keypair data is invalid: failed to generate fingerprint") from exc
    return _colon_hex(cert.fingerprint(hashes.SHA1()))  # noqa: S303 - Nova's fingerprint, not a signature


def check_name(name: Any) -> str:
    """A key pair name Nova accepts (1-255 of letters, digits, space, _ and -; no outer spaces)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or not NAME.match(name) or name != name.strip():
        raise ValidationFailed(
            f"Invalid input for field/attribute name. Value: {name}. Keypair name contains unsafe characters"
        )
    return name


def _generate_ssh() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{public.decode()} {GENERATED_COMMENT}", private


def _generate_x509(user_id: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id or "nefos")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), private


def get_keypair(user_id: str, name: str) -> Keypair:
    """The user's key pair `name`; NotFound otherwise."""
    keypair = Keypair.objects.for_user(user_id).filter(name=name).first()
    if keypair is None:
        raise NotFound(f"Keypair {name} not found for user {user_id}")
    return keypair


@transaction.atomic
def create_keypair(
    user_id: str, name: str, *, key_type: str = Keypair.Type.SSH, public_key: str | None = None, actor: Any
) -> tuple[Keypair, str | None]:
    """Import `public_key`, or generate a pair when it is None; returns the row and the private key
    (None for an import). Conflict when the user has a pair with this name."""
    check_name(name)
    if key_type not in Keypair.Type.values:
        raise ValidationFailed(f"Invalid input for field/attribute type. Value: {key_type}.")
    if Keypair.objects.for_user(user_id).count() >= MAX_KEYPAIRS:
        raise Forbidden("Quota exceeded, too many key pairs.")
    if Keypair.objects.for_user(user_id).filter(name=name).exists():
        raise Conflict(f"Key pair '{name}' already exists.")
    private = None
    if public_key is None:
        public_key, private = _generate_x509(user_id) if key_type == Keypair.Type.X509 else _generate_ssh()
    elif not isinstance(public_key, str) or "\x00" in public_key:
        raise ValidationFailed("Keypair data is invalid: failed to generate fingerprint")
    is_x509 = key_type == Keypair.Type.X509
    fingerprint = x509_fingerprint(public_key) if is_x509 else ssh_fingerprint(public_key)
    try:
        with transaction.atomic():
            keypair = Keypair.objects.create(
                user_id=user_id, name=name, type=key_type, public_key=public_key.strip(), fingerprint=fingerprint
            )
    except IntegrityError as exc:
        raise Conflict(f"Key pair '{name}' already exists.") from exc
    audit.record(
        actor, "keypair.create", keypair, detail={"type": key_type, "generated": private is not None, "user": user_id}
    )
    return keypair, private


@transaction.atomic
def delete_keypair(keypair: Keypair, *, actor: Any) -> None:
    """Remove a key pair (servers keep the public key they were built with)."""
    audit.record(actor, "keypair.delete", keypair, detail={"user": keypair.user_id})
    keypair.delete()
