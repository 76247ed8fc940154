from rest_framework import authentication, exceptions

from .models import User
from .tokens import InvalidAccessToken, verify_access_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Verifies RS256 access tokens locally: no call to any other service per request."""

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
        user = User.objects.filter(pk=claims.user_id, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("User not found or inactive.")
        return user, claims

    def authenticate_header(self, request) -> str:
        return self.keyword
