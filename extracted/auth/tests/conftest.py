import pytest


@pytest.fixture(autouse=True)
def _service_owns_auth(owns_auth) -> None:
    """The API as clients see it once the service serves it: after the flip. Tests of the
    state before it ask for `monolith_owns_auth`, which runs after this."""
