"""The RSA key material behind access tokens: the signing key, the keys that verify, the JWKS."""

import base64
import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """A kid derived from the key itself, so every process holding the key agrees on it."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def _generate_private_key_file(path: Path) -> None:
    """Creates a key file once, even when several workers race to do it at first start."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jwt-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _read_private_key() -> rsa.RSAPrivateKey:
    if settings.JWT_PRIVATE_KEY:
        pem = settings.JWT_PRIVATE_KEY.encode()
    else:
        path = Path(settings.JWT_PRIVATE_KEY_FILE)
        if not path.exists():
            if settings.PRODUCTION:
                raise RuntimeError(f"JWT private key file {path} does not exist")
            _generate_private_key_file(path)
        pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError("The JWT private key must be an RSA key")
    return key


@cache
def signing_key() -> SigningKey:
    private_key = _read_private_key()
    return SigningKey(kid=key_id(private_key.public_key()), private_key=private_key)


@cache
def verification_keys() -> dict[str, rsa.RSAPublicKey]:
    """The current public key plus any still accepted during a key rotation, by kid."""
    keys = {signing_key().kid: signing_key().private_key.public_key()}
    for filename in settings.JWT_EXTRA_PUBLIC_KEY_FILES:
        public_key = serialization.load_pem_public_key(Path(filename).read_bytes())
        if isinstance(public_key, rsa.RSAPublicKey):
            keys[key_id(public_key)] = public_key
    return keys


def jwks() -> dict:
    keys = []
    for kid, public_key in verification_keys().items():
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": keys}
