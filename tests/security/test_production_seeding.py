"""The shop under test was seeded as production seeds it (compose runs `seed_shop` at every
start): the demo customer, whose password the README prints, does not exist there."""

from __future__ import annotations

import pytest

from tests.security.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, SecureShop

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DEMO_CUSTOMER = {"email": "customer@shop.local", "password": "customer-pass-1234"}


def test_the_demo_customers_public_password_logs_nobody_in_to_a_production_shop(secure_shop):
    response = secure_shop.api.post("/api/auth/token", json=DEMO_CUSTOMER)

    assert response.status_code == 401, response.text


def test_the_staff_user_production_seeding_created_logs_in(secure_shop: SecureShop):
    response = secure_shop.api.post(
        "/api/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )

    assert response.status_code == 200, response.text
