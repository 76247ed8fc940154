from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions

from strangler.conf import strangler_settings

from .tokens import InvalidAccessToken, verify_access_token


class JWTAuthentication(authentication.BaseAuthentication):
    """Verifies RS256 access tokens locally: no call to the auth backend per request.

    The user is this backend's own row (its copy, kept in sync, where it does not own users).
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.")
        try:
            claims = verify_access_token(header[1].decode("latin-1"))
        except InvalidAccessToken as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        users = get_user_model()._default_manager
        user = users.filter(pk=claims.user_id).first()
        if user is None and strangler_settings.USER_AGGREGATE:
            # A copy trailing its owner by the sync lag: fetch the user from the owner now.
            from strangler.sync.readthrough import load_missing

            user = load_missing(strangler_settings.USER_AGGREGATE, claims.user_id)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("User not found or inactive.")
        return user, claims

    def authenticate_header(self, request) -> str:
        return self.keyword
