"""The authentication backend of every backend serving the accounts domain (settings'
AUTHENTICATION_BACKENDS): Django's model backend, whose password check is the API's own
(services.verified_user), so that a login through the admin's form counts against the same
lockout as a token request. Without it the admin login checked the same passwords unlimited."""

from django.contrib.auth.backends import ModelBackend

from strangler.service.client_address import client_address

from . import services
from .models import User


class ThrottledLoginBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """The user, or None for wrong credentials; a locked login raises TooManyFailures,
        which Django lets through (it swallows only PermissionDenied) for the form to say so."""
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if email is None or password is None:
            return None
        try:
            return services.verified_user(
                email=email, password=password, client=client_address(request)
            )
        except services.InvalidCredentials:
            return None
