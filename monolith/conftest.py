from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Category, Product
from strangler.service.tokens import issue_access_token


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _bearer(user: User) -> dict[str, str]:
    token = issue_access_token(user_id=user.pk, email=user.email, is_staff=user.is_staff)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def customer(db) -> User:
    return User.objects.create_user(email="ann@example.com", password="ann-pass-1234", name="Ann")


@pytest.fixture
def other_customer(db) -> User:
    return User.objects.create_user(email="bob@example.com", password="bob-pass-1234", name="Bob")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        email="staff@example.com", password="staff-pass-1234", name="Staff", is_staff=True
    )


@pytest.fixture
def as_customer(customer) -> dict[str, str]:
    return _bearer(customer)


@pytest.fixture
def as_other_customer(other_customer) -> dict[str, str]:
    return _bearer(other_customer)


@pytest.fixture
def as_staff(staff) -> dict[str, str]:
    return _bearer(staff)


@pytest.fixture
def books(db) -> Category:
    return Category.objects.create(slug="books", name="Books")


@pytest.fixture
def make_product(books):
    counter = iter(range(1, 10_000))

    def make(**fields) -> Product:
        n = next(counter)
        defaults = {
            "sku": f"SKU-{n}",
            "name": f"Product {n}",
            "description": "",
            "price": Decimal("10.00"),
            "category": books,
            "stock": 5,
        }
        return Product.objects.create(**{**defaults, **fields})

    return make
