"""`seed_shop` runs at every start of a deployment: it adds what is missing and changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from shop.seeding import DEMO_CUSTOMER

pytestmark = pytest.mark.django_db

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "admin-pass-1234"


@pytest.fixture(autouse=True)
def _admin_settings(settings):
    settings.SHOP_ADMIN_EMAIL, settings.SHOP_ADMIN_PASSWORD = ADMIN_EMAIL, ADMIN_PASSWORD
    settings.PRODUCTION = False


def seed() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_shop", products=0, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("production", [False, True])
def test_seeding_again_keeps_what_an_operator_changed_on_the_admin(settings, production):
    settings.PRODUCTION = production
    seed()
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert admin.check_password(ADMIN_PASSWORD) and admin.is_superuser and admin.is_staff
    admin.set_password("operators-own-pass-5678")
    admin.is_superuser = False
    admin.is_active = False
    admin.save()

    out, _ = seed()

    admin.refresh_from_db()
    assert admin.check_password("operators-own-pass-5678")
    assert not admin.check_password(ADMIN_PASSWORD)
    assert admin.is_superuser is False and admin.is_active is False
    assert "exists, left unchanged" in out


def test_production_seeding_creates_no_demo_customer(settings):
    settings.PRODUCTION = True

    out, err = seed()

    assert not User.objects.filter(email__iexact=DEMO_CUSTOMER[0]).exists()
    assert User.objects.get(email=ADMIN_EMAIL).is_staff
    assert "no demo users" in out and err == ""


def test_development_seeding_creates_the_demo_customer_with_the_readme_password():
    seed()

    email, password, _ = DEMO_CUSTOMER
    customer = User.objects.get(email=email)
    assert customer.check_password(password) and not customer.is_staff
    assert User.objects.get(email=ADMIN_EMAIL).check_password(ADMIN_PASSWORD)


def test_development_seeding_again_keeps_a_changed_demo_customer_password():
    seed()
    customer = User.objects.get(email=DEMO_CUSTOMER[0])
    customer.set_password("changed-pass-5678")
    customer.save()

    seed()

    customer.refresh_from_db()
    assert customer.check_password("changed-pass-5678")


def test_production_seeding_warns_of_a_demo_customer_an_earlier_seeding_left(settings):
    seed()
    settings.PRODUCTION = True

    _, err = seed()

    assert DEMO_CUSTOMER[0] in err and "password is public" in err
