from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from strangler.service.throttle import TooManyFailures

from .services import LOGIN_LOCKED


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, saying so when the login is locked (accounts.backends)."""

    def clean(self):
        try:
            return super().clean()
        except TooManyFailures as exc:
            raise ValidationError(LOGIN_LOCKED, code="locked") from exc
