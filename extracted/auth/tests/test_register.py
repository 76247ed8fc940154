import pytest
from django.contrib.auth.hashers import identify_hasher

from accounts.models import User

pytestmark = pytest.mark.django_db

DUPLICATE = {"email": ["A user with this email already exists."]}


def _register(api, **overrides):
    body = {"email": "new@example.com", "password": "long-enough", "name": "New"}
    return api.post("/api/auth/register", {**body, **overrides}, format="json")


def test_register_returns_the_user_without_the_password(api):
    response = _register(api)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "name", "is_staff", "date_joined"}
    assert body["is_staff"] is False
    assert body["date_joined"].endswith("Z")
    assert b"long-enough" not in response.content


def test_register_stores_a_salted_hash_not_the_password(api):
    _register(api)

    user = User.objects.get(email="new@example.com")
    assert user.password != "long-enough"
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("long-enough")


def test_register_rejects_an_email_taken_in_another_case(api, customer):
    response = _register(api, email="ANN@example.com")

    assert response.status_code == 400
    assert response.json() == DUPLICATE


def test_register_cannot_grant_staff_rights_through_unknown_fields(api):
    response = _register(api, is_staff=True, is_superuser=True)

    assert response.status_code == 201
    assert response.json()["is_staff"] is False
    assert not User.objects.get(email="new@example.com").is_superuser


def test_register_rejects_short_passwords_and_bad_emails(api):
    response = _register(api, email="nope", password="short")

    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_register_names_every_missing_field(api):
    response = api.post("/api/auth/register", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "email": ["This field is required."],
        "password": ["This field is required."],
        "name": ["This field is required."],
    }


def test_a_registration_that_loses_the_race_to_the_unique_index_is_a_duplicate(
    api, customer, monkeypatch
):
    # Both requests passed the "is it taken?" check; only the database can refuse the second.
    monkeypatch.setattr("accounts.services.email_taken", lambda *, email: False)

    response = _register(api, email="Ann@Example.com")

    assert response.status_code == 400
    assert response.json() == DUPLICATE
    assert User.objects.count() == 1
