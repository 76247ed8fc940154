import pytest

# The accounts domain's fixtures (api, customer, staff, as_customer, ...), as every project
# that installs the domain uses them.
pytest_plugins = ["accounts.testing"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Unit tests hash many passwords; production's PBKDF2 cost would only slow them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
