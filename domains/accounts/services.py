"""Writes of the accounts domain (`auth`): registration and the token lifecycle.

Each write first checks that this backend owns the domain (see strangler.sync.ownership) and
records the changed rows in the outbox in the same transaction, so the auth service's copy
follows; once the auth service owns the domain, these writes are forwarded to it.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from strangler.service.throttle import clear_failures, count_attempt
from strangler.service.tokens import issue_access_token
from strangler.sync.ownership import check_ownership, require_ownership

from .models import RefreshToken, User
from .selectors import email_taken, user_by_email

DOMAIN = "auth"
LOGIN_SCOPE = "login"
LOGIN_ATTEMPT_LIMIT = 10
LOGIN_WINDOW = timedelta(minutes=5)
LOGIN_LOCKED = "Too many failed login attempts. Try again later."
# A login's refresh tokens rotate for at most this long; then the user logs in again.
REFRESH_FAMILY_LIFETIME = timedelta(days=30)
# Compared against when the email is unknown, so a miss costs as much as a wrong password.
_DUMMY_PASSWORD_HASH = make_password("not-a-real-password")


class EmailTaken(Exception):
    pass


class InvalidCredentials(Exception):
    pass


class InvalidRefreshToken(Exception):
    pass


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int


def register_user(*, email: str, password: str, name: str) -> User:
    # Hashing takes a third of a second of CPU: done before the transaction, so it never holds
    # the database's write lock (SQLite has one) while other writers wait.
    check_ownership(DOMAIN)
    return _create_user(email=email, password_hash=make_password(password), name=name)


@transaction.atomic
def _create_user(*, email: str, password_hash: str, name: str) -> User:
    require_ownership(DOMAIN)
    if email_taken(email=email):
        raise EmailTaken
    user = User(email=User.objects.normalize_email(email), name=name, password=password_hash)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one email raced past the check: the unique index decides.
        raise EmailTaken from exc
    return user


def _hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _issue_pair(*, user: User, family: uuid.UUID, family_started=None) -> TokenPair:
    now = timezone.now()
    refresh = secrets.token_urlsafe(48)
    expires_at = now + timedelta(seconds=settings.JWT_REFRESH_TTL_SECONDS)
    if family_started is not None:
        expires_at = min(expires_at, family_started + REFRESH_FAMILY_LIFETIME)
    RefreshToken(
        user=user, token_hash=_hash(refresh), family=family, created_at=now, expires_at=expires_at
    ).save()
    access = issue_access_token(user_id=user.pk, email=user.email, is_staff=user.is_staff)
    return TokenPair(access=access, refresh=refresh, expires_in=settings.JWT_ACCESS_TTL_SECONDS)


def obtain_token_pair(*, email: str, password: str, client: str = "") -> TokenPair:
    """A new login from the client at address `client` (see verified_user)."""
    # A backend that does not own the domain forwards the request (owned_write) before it
    # counts an attempt: the owner counts it.
    check_ownership(DOMAIN)
    user = verified_user(email=email, password=password, client=client)
    with transaction.atomic():
        require_ownership(DOMAIN)
        return _issue_pair(user=user, family=uuid.uuid4())


def verified_user(*, email: str, password: str, client: str = "") -> User:
    """The active user these credentials name: the one password check of every login, the API's
    tokens and the admin's sessions (accounts.backends), so both share one lockout.

    Ten wrong passwords for one account from one client address within five minutes lock that
    pair for the rest of those five minutes (TooManyFailures), whichever worker they reached.
    Keyed on the pair, so that a stranger guessing an account's password does not lock its
    owner out from elsewhere; the proxy's per-address rate limit bounds the guesses one
    address spreads over many accounts. `client` is "" outside a request (all such callers
    share one key per account).
    """
    key = f"{email.strip().lower()}|{client}"
    count_attempt(scope=LOGIN_SCOPE, key=key, limit=LOGIN_ATTEMPT_LIMIT, window=LOGIN_WINDOW)
    # The password is checked outside any write transaction (see register_user); a re-hash it
    # makes is a change of the user like any other, recorded for the copies by the model.
    user = user_by_email(email=email)
    if user is None or not user.is_active:
        check_password(password, _DUMMY_PASSWORD_HASH)
        raise InvalidCredentials
    if not user.check_password(password):
        raise InvalidCredentials
    clear_failures(scope=LOGIN_SCOPE, key=key)
    return user


def rotate_refresh_token(*, refresh_token: str) -> TokenPair:
    """Spends a refresh token for a new pair; spending one twice revokes its whole family."""
    now = timezone.now()
    with transaction.atomic():
        require_ownership(DOMAIN)
        token = (
            RefreshToken.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=_hash(refresh_token))
            .first()
        )
        if token is None or token.revoked_at or token.expires_at <= now:
            raise InvalidRefreshToken
        if token.used_at is None:
            if not token.user.is_active:
                raise InvalidRefreshToken
            token.used_at = now
            token.save(update_fields=["used_at"])
            started = RefreshToken.objects.filter(family=token.family).aggregate(
                started=Min("created_at")
            )["started"]
            return _issue_pair(user=token.user, family=token.family, family_started=started)
        for member in RefreshToken.objects.filter(family=token.family, revoked_at__isnull=True):
            member.revoked_at = now
            member.save(update_fields=["revoked_at"])
    # Raised after the revocation committed: a replayed token must not roll it back.
    raise InvalidRefreshToken
