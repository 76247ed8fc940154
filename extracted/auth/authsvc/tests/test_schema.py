"""The service documents its routes exactly as the shop's committed OpenAPI contract does."""

from pathlib import Path

import yaml
from django.core.management import call_command

CONTRACT = Path(__file__).resolve().parents[4] / "contract" / "openapi.yaml"
AUTH_PATHS = {
    "/api/auth/register",
    "/api/auth/token",
    "/api/auth/token/refresh",
    "/api/auth/me",
    "/.well-known/jwks.json",
}


def _generated(tmp_path) -> dict:
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(target), "--validate")
    return yaml.safe_load(target.read_text())


def test_the_service_documents_the_auth_routes_and_nothing_else(tmp_path):
    assert set(_generated(tmp_path)["paths"]) == AUTH_PATHS


def test_each_route_is_documented_as_in_the_shop_contract(tmp_path):
    generated = _generated(tmp_path)
    contract = yaml.safe_load(CONTRACT.read_text())

    for path in AUTH_PATHS:
        assert generated["paths"][path] == contract["paths"][path], path


def test_each_schema_the_routes_use_is_the_contract_s(tmp_path):
    generated = _generated(tmp_path)["components"]
    contract = yaml.safe_load(CONTRACT.read_text())["components"]

    assert generated["securitySchemes"] == contract["securitySchemes"]
    for name, schema in generated["schemas"].items():
        assert schema == contract["schemas"][name], name
