"""Access tokens: RS256 JWTs with a kid, issued by the auth owner and verified everywhere."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

from .keys import signing_key, verification_keys

# A user id as the ids in URLs are (strangler.service.converters): ASCII digits that fit 64 bits.
# str.isdigit() also accepts digits int() refuses ("²"), which made a signed token's sub a 500.
_USER_ID = re.compile(r"[1-9][0-9]{0,17}")


class InvalidAccessToken(Exception):
    pass


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    email: str
    is_staff: bool


def issue_access_token(*, user_id: int, email: str, is_staff: bool) -> str:
    now = datetime.now(UTC)
    key = signing_key()
    claims = {
        "iss": settings.JWT_ISSUER,
        "sub": str(user_id),
        "email": email,
        "is_staff": is_staff,
        "iat": now,
        "exp": now + timedelta(seconds=settings.JWT_ACCESS_TTL_SECONDS),
        "jti": uuid.uuid4().hex,
        "token_use": "access",
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def verify_access_token(token: str) -> AccessClaims:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise InvalidAccessToken("Invalid token.")
        public_key = verification_keys().get(str(header.get("kid", "")))
        if public_key is None:
            raise InvalidAccessToken("Invalid token.")
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidAccessToken("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken("Invalid token.") from exc
    if claims.get("token_use") != "access" or not _USER_ID.fullmatch(str(claims["sub"])):
        raise InvalidAccessToken("Invalid token.")
    return AccessClaims(
        user_id=int(claims["sub"]),
        email=str(claims.get("email", "")),
        is_staff=bool(claims.get("is_staff", False)),
    )
