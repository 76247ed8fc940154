"""Password guessing on /api/auth/token is rate-limited with a JSON 429 (own backend, so the
limit it trips cannot disturb other suites)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.contract import shapes
from tests.contract.api import PASSWORD, Unique
from tests.support.live import LiveBackend

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# More guesses than a sane limit allows for one account within a minute.
MAX_ATTEMPTS = 30


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        LiveBackend(name="ratelimit", workers=2, products=1) as backend,
        httpx.Client(base_url=backend.base_url, timeout=30.0) as http,
    ):
        yield http


def test_repeated_wrong_passwords_are_answered_429_in_json(client):
    email = Unique().email()
    registered = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": "Target"}
    )
    assert registered.status_code == 201, registered.text

    statuses = []
    for _ in range(MAX_ATTEMPTS):
        response = client.post(
            "/api/auth/token", json={"email": email, "password": "wrong-password-1"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            break

    assert statuses[-1] == 429, f"no 429 after {len(statuses)} wrong passwords"
    assert set(statuses[:-1]) == {401}, statuses
    shapes.error_detail(response, 429)
