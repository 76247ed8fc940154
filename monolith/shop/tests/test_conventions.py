from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from catalog.models import Product
from shop.seeding import seed_shop

REPO = Path(__file__).resolve().parents[3]


def test_request_id_is_echoed_when_sane_and_replaced_when_not(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\twith spaces")["X-Request-ID"]
    assert replaced != "bad id\twith spaces"
    assert len(replaced) == 32


@pytest.mark.django_db
def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_unknown_paths_are_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.content == b'{"detail":"Not found."}'


def test_bodies_over_one_mebibyte_are_413_before_parsing(client):
    response = client.generic(
        "POST",
        "/api/auth/register",
        b"{" + b" " * (1024 * 1024) + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert "detail" in response.json()


@pytest.mark.django_db
def test_malformed_json_is_400_json_parse_error(client):
    response = client.generic(
        "POST", "/api/auth/register", b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


@pytest.mark.django_db
def test_strings_with_nul_or_lone_surrogates_are_400(client):
    body = '{"email": "a@example.com", "password": "long-enough", "name": "\\ud800\\u0000"}'
    response = client.generic("POST", "/api/auth/register", body, content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.django_db
def test_seeding_is_deterministic_and_idempotent():
    first = seed_shop(products=30, admin_email="a@example.com", admin_password="pass-1234")
    snapshot = list(Product.objects.order_by("sku").values_list("sku", "name", "price", "stock"))
    second = seed_shop(products=30, admin_email="a@example.com", admin_password="pass-1234")
    assert first.products_created == 30
    assert second.products_created == 0
    assert list(Product.objects.order_by("sku").values_list("sku", "name", "price", "stock")) == (
        snapshot
    )


def test_committed_openapi_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated))
    committed = yaml.safe_load((REPO / "contract" / "openapi.yaml").read_text())
    assert yaml.safe_load(generated.read_text()) == committed, (
        "contract/openapi.yaml is stale: run `make schema` and commit it"
    )


@pytest.mark.django_db
def test_json_nested_too_deeply_is_400_not_a_crash(client):
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.generic("POST", "/api/auth/register", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
