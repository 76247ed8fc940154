"""Conventions every backend shares (shop-api.md "Conventions"), as this service answers them."""

import pytest


def test_request_id_is_echoed_when_sane_and_replaced_when_not(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\twith spaces")["X-Request-ID"]
    assert replaced != "bad id\twith spaces"
    assert len(replaced) == 32


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query would fail the test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_broker_is_unreachable(client, settings, db):
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "failing"}


def test_unknown_paths_are_json_404(client):
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.content == b'{"detail":"Not found."}'
    assert response["Content-Type"] == "application/json"


def test_paths_of_other_domains_are_not_served_here(client):
    assert client.get("/api/products").status_code == 404


def test_bodies_over_one_mebibyte_are_413_before_parsing(client):
    response = client.generic(
        "POST",
        "/api/auth/register",
        b"{" + b" " * (1024 * 1024) + b"}",
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.content == b'{"detail":"Request body too large (limit 1024 KiB)."}'
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_malformed_json_is_400_json_parse_error(client):
    response = client.generic(
        "POST", "/api/auth/register", b"{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_a_body_that_is_not_json_is_415(client):
    response = client.post("/api/auth/token", "email=a", content_type="text/plain")

    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


def test_a_method_a_route_does_not_serve_is_405(client):
    response = client.get("/api/auth/register")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}


@pytest.mark.django_db
def test_strings_with_nul_or_lone_surrogates_are_400(client):
    body = '{"email": "a@example.com", "password": "long-enough", "name": "\\ud800\\u0000"}'

    response = client.generic("POST", "/api/auth/register", body, content_type="application/json")

    assert response.status_code == 400
    assert "name" in response.json()


def test_json_nested_too_deeply_is_400_not_a_crash(client):
    body = b"[" * 100_000 + b"]" * 100_000

    response = client.generic("POST", "/api/auth/register", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
