import pytest

# The domains' fixtures (api, customer, staff, as_customer, ...; books, make_product; fill_cart,
# make_order), as every project that installs the domains uses them.
pytest_plugins = ["accounts.testing", "catalog.testing", "orders.testing"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Unit tests hash many passwords; production's PBKDF2 cost would only slow them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
