import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Unit tests hash many passwords; production's PBKDF2 cost would only slow them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
