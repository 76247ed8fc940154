"""Conventions that hold on every endpoint: JSON, X-Request-ID, 401 challenge, links, health."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from strangler.contract import diff_responses, format_differences
from tests.contract import shapes
from tests.contract.api import bearer

REQUEST_ID = "X-Request-ID"

PROTECTED = [
    ("GET", "/api/auth/me"),
    ("POST", "/api/products"),
    ("PATCH", "/api/products/1"),
    ("DELETE", "/api/products/1"),
    ("POST", "/api/products/1/reviews"),
    ("GET", "/api/cart"),
    ("PUT", "/api/cart/items/1"),
    ("DELETE", "/api/cart/items/1"),
    ("POST", "/api/orders"),
    ("GET", "/api/orders"),
    ("GET", "/api/orders/1"),
    ("POST", "/api/orders/1/cancel"),
    ("POST", "/api/orders/1/pay"),
]


def _request_id(response: httpx.Response) -> str:
    value = response.headers.get(REQUEST_ID, "")
    assert value, f"{response.request.method} {response.request.url}: no {REQUEST_ID}"
    return value


# -- auth challenge -----------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_protected_endpoint_answers_401_with_a_bearer_challenge_without_a_token(
    shop, method, path
):
    shapes.unauthorized(shop.client.request(method, path, json={}))


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_protected_endpoint_answers_401_to_an_invalid_token(shop, method, path):
    response = shop.client.request(method, path, json={}, headers=bearer("not.a.token"))

    shapes.unauthorized(response)


# -- request ids --------------------------------------------------------------------------------
def test_a_valid_client_request_id_is_echoed(shop):
    sent = f"contract-{shop.unique.token()}"

    response = shop.get("/api/products", headers={REQUEST_ID: sent}, params={"page_size": 1})

    assert _request_id(response) == sent


def test_a_request_id_is_generated_when_the_client_sends_none(shop):
    first = _request_id(shop.get("/api/categories"))
    second = _request_id(shop.get("/api/categories"))

    assert first != second


@pytest.mark.parametrize(
    "sent", ["has spaces and <angle> brackets", "x" * 1000, "semi;colon\"quote'"]
)
def test_an_invalid_client_request_id_is_replaced(shop, sent):
    response = shop.get("/api/categories", headers={REQUEST_ID: sent})

    assert _request_id(response) != sent


def test_errors_carry_a_request_id_too(shop, customer):
    sent = f"contract-{shop.unique.token()}"
    responses = [
        shop.get("/api/products/2000000000", headers={REQUEST_ID: sent}),
        shop.get("/api/auth/me", headers={REQUEST_ID: sent}),
        shop.post("/api/orders", customer, headers={REQUEST_ID: sent}),
        shop.post(
            "/api/auth/register",
            content=b"{",
            headers={REQUEST_ID: sent, "Content-Type": "application/json"},
        ),
        shop.delete("/api/categories", headers={REQUEST_ID: sent}),
    ]

    assert [response.status_code for response in responses] == [404, 401, 400, 400, 405]
    assert {_request_id(response) for response in responses} == {sent}


def test_health_endpoints_answer_with_a_request_id(shop):
    for path in ("/healthz", "/readyz"):
        response = shop.get(path)

        assert response.status_code == 200, (path, response.text)
        _request_id(response)


# -- JSON everywhere ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/api/products/1/no-such-thing"])
def test_an_unknown_api_path_is_a_404_json_answer(shop, path):
    shapes.error_detail(shop.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/categories"),
        ("PUT", "/api/orders"),
        ("POST", "/api/auth/me"),
        ("GET", "/api/auth/token"),
        ("PATCH", "/api/cart"),
    ],
)
def test_an_unsupported_method_is_a_405_json_answer(shop, admin, method, path):
    shapes.error_detail(shop.client.request(method, path, headers=admin.auth), 405)


def test_successful_answers_are_json(shop):
    for path in ("/api/categories", "/api/products", "/.well-known/jwks.json"):
        shapes.json_body(shop.get(path), 200)


# -- absolute links and stable answers ----------------------------------------------------------
def _loopback_alias(base_url: str) -> str:
    parts = urlsplit(base_url)
    swap = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    if parts.hostname not in swap:
        pytest.skip("the base URL has no loopback alias to compare against")
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{swap[parts.hostname]}{port}"))


def test_pagination_links_use_the_host_the_client_used(base_url):
    alias = _loopback_alias(base_url)

    for url in (base_url, alias):
        response = httpx.get(f"{url}/api/products", params={"page_size": 1}, timeout=30.0)
        page = shapes.page(shapes.json_body(response, 200), base_url=url)
        assert page["next"] and page["next"].startswith(f"{url}/api/products?")


@pytest.mark.parametrize(
    "path",
    [
        "/api/products?page_size=3&ordering=-price",
        "/api/categories",
        "/api/products/{product}",
        "/api/products/{product}/reviews",
    ],
)
def test_reads_through_either_host_name_differ_only_in_volatile_parts(base_url, product, path):
    alias = _loopback_alias(base_url)
    path = path.format(product=product["id"])

    first = httpx.get(f"{base_url}{path}", timeout=30.0)
    second = httpx.get(f"{alias}{path}", timeout=30.0)

    assert first.status_code == 200, first.text
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    differences = diff_responses(first, second)
    assert differences == [], format_differences(differences)
