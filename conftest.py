import pytest
from hypothesis import settings

# Property tests judge answers, never time: on a loaded 2-core machine an example may take
# longer than hypothesis' default 200 ms deadline without anything being wrong.
settings.register_profile("shop", deadline=None)
settings.load_profile("shop")

# The domains' fixtures (api, customer, staff, as_customer, ...; books, make_product; fill_cart,
# make_order), as every project that installs the domains uses them.
pytest_plugins = ["accounts.testing", "catalog.testing", "orders.testing"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Unit tests hash many passwords; production's PBKDF2 cost would only slow them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
