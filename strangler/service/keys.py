"""RSA key material behind access tokens: the signing key, the keys that verify, the JWKS.

A backend that issues tokens holds the private key (JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE,
generated on first use in development). A backend that only verifies sets JWT_JWKS_URL and keeps
the published keys cached, refetching them only when a token names a kid it has not seen.
"""

import base64
import hashlib
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

from .secret_files import write_once


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey


class KeySet(Protocol):
    keys: dict[str, rsa.RSAPublicKey]

    def get(self, kid: str) -> rsa.RSAPublicKey | None: ...


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
    write_once(path, pem)


def _read_private_key() -> rsa.RSAPrivateKey:
    if settings.JWT_PRIVATE_KEY:
        pem = settings.JWT_PRIVATE_KEY.encode()
    else:
        if not settings.JWT_PRIVATE_KEY_FILE:
            raise RuntimeError("Set JWT_PRIVATE_KEY_FILE or JWT_PRIVATE_KEY to issue tokens")
        path = Path(settings.JWT_PRIVATE_KEY_FILE)
        if not path.exists():
            if getattr(settings, "PRODUCTION", True):
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


class LocalKeySet:
    """The signing key's public half plus any still accepted during a rotation."""

    def __init__(self) -> None:
        keys = {signing_key().kid: signing_key().private_key.public_key()}
        for filename in getattr(settings, "JWT_EXTRA_PUBLIC_KEY_FILES", []):
            public_key = serialization.load_pem_public_key(Path(filename).read_bytes())
            if isinstance(public_key, rsa.RSAPublicKey):
                keys[key_id(public_key)] = public_key
        self.keys = keys

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        return self.keys.get(kid)


class RemoteKeySet:
    """Keys published at a JWKS URL, cached; an unknown kid refetches at most once a period."""

    def __init__(self, url: str, *, min_refresh_seconds: float = 30.0) -> None:
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self.keys: dict[str, rsa.RSAPublicKey] = {}
        self.fetched_at = float("-inf")
        self.lock = threading.Lock()

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        if kid not in self.keys:
            self.refresh()
        return self.keys.get(kid)

    def refresh(self) -> None:
        with self.lock:
            if time.monotonic() - self.fetched_at < self.min_refresh_seconds:
                return
            self.fetched_at = time.monotonic()
            try:
                response = httpx.get(self.url, timeout=3.0)
                response.raise_for_status()
                published = response.json()["keys"]
            except (httpx.HTTPError, ValueError, KeyError):
                return  # keep the keys we have; a later unknown kid tries again
            keys = {
                jwk["kid"]: RSAAlgorithm.from_jwk(jwk)
                for jwk in published
                if jwk.get("kty") == "RSA" and jwk.get("kid")
            }
            # A JWK set that published a private key is not one to verify with.
            self.keys = {kid: key for kid, key in keys.items() if isinstance(key, rsa.RSAPublicKey)}


@cache
def verification_keys() -> KeySet:
    jwks_url = getattr(settings, "JWT_JWKS_URL", "")
    return RemoteKeySet(jwks_url) if jwks_url else LocalKeySet()


def jwks() -> dict:
    """The public keys this backend verifies with, as a JWKS document."""
    keys = []
    key_set = verification_keys()
    for kid, public_key in key_set.keys.items():
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": keys}
