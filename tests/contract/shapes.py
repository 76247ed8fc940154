"""Assertions on the shapes that shop-api.md defines, shared by the contract tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

MONEY = re.compile(r"^\d+\.\d{2}$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$")

USER_KEYS = {"id", "email", "name", "is_staff", "date_joined"}
TOKEN_KEYS = {"access", "refresh", "token_type", "expires_in"}
CATEGORY_KEYS = {"id", "slug", "name"}
PRODUCT_KEYS = {"id", "sku", "name", "description", "price", "category", "stock", "updated_at"}
REVIEW_KEYS = {"id", "product_id", "user", "rating", "title", "body", "created_at"}
CART_KEYS = {"items", "item_count", "total"}
LINE_KEYS = {"product_id", "sku", "name", "unit_price", "quantity", "line_total"}
ORDER_KEYS = {"id", "status", "items", "total", "created_at", "paid_at"}
PAYMENT_KEYS = {"order_id", "payment_id", "amount", "status"}
PAGE_KEYS = {"count", "next", "previous", "results"}


def is_id(value: Any) -> bool:
    return type(value) is int and value > 0


def money(value: Any) -> Decimal:
    assert isinstance(value, str) and MONEY.match(value), f"not a 2-place decimal string: {value!r}"
    return Decimal(value)


def timestamp(value: Any) -> datetime:
    assert isinstance(value, str) and ISO_UTC.match(value), f"not an ISO-8601 UTC time: {value!r}"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    return parsed.astimezone(UTC)


def json_body(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, "
        f"got {response.status_code}: {response.text[:500]}"
    )
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json"), f"not JSON: {content_type!r}"
    return response.json()


def error_detail(response: httpx.Response, status: int, *, code: str | None = None) -> dict:
    """A non-field error: `{"detail": "..."}`, plus `"code"` for errors clients branch on."""
    body = json_body(response, status)
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if code is not None:
        assert body.get("code") == code, body
    return body


def field_errors(response: httpx.Response, *fields: str) -> dict:
    """A validation error: `{"<field>": ["<message>", ...]}` naming at least `fields`."""
    body = json_body(response, 400)
    assert isinstance(body, dict), body
    for field in fields:
        assert field in body, f"{field!r} not in {body}"
        messages = body[field]
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(message, str) and message for message in messages), body
    return body


def unauthorized(response: httpx.Response) -> dict:
    body = error_detail(response, 401)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.split(" ")[0] == "Bearer", f"WWW-Authenticate: {challenge!r}"
    return body


def user(body: Any) -> dict:
    assert set(body) == USER_KEYS, body
    assert is_id(body["id"]), body
    assert isinstance(body["email"], str) and isinstance(body["name"], str), body
    assert type(body["is_staff"]) is bool, body
    timestamp(body["date_joined"])
    return body


def tokens(body: Any) -> dict:
    assert set(body) == TOKEN_KEYS, body
    assert body["token_type"] == "Bearer", body
    assert body["expires_in"] == 900 and type(body["expires_in"]) is int, body
    assert isinstance(body["access"], str) and body["access"].count(".") == 2, body
    assert isinstance(body["refresh"], str) and body["refresh"], body
    assert body["access"] != body["refresh"], body
    return body


def category(body: Any) -> dict:
    assert set(body) == CATEGORY_KEYS, body
    assert is_id(body["id"]), body
    assert isinstance(body["slug"], str) and body["slug"], body
    assert isinstance(body["name"], str) and body["name"], body
    return body


def product(body: Any) -> dict:
    assert set(body) == PRODUCT_KEYS, body
    assert is_id(body["id"]), body
    for key in ("sku", "name", "description", "category"):
        assert isinstance(body[key], str), (key, body)
    assert money(body["price"]) > 0, body
    assert type(body["stock"]) is int and body["stock"] >= 0, body
    timestamp(body["updated_at"])
    return body


def review(body: Any) -> dict:
    assert set(body) == REVIEW_KEYS, body
    assert is_id(body["id"]) and is_id(body["product_id"]), body
    assert set(body["user"]) == {"id", "name"}, body
    assert is_id(body["user"]["id"]) and isinstance(body["user"]["name"], str), body
    assert type(body["rating"]) is int and 1 <= body["rating"] <= 5, body
    assert isinstance(body["title"], str) and isinstance(body["body"], str), body
    timestamp(body["created_at"])
    return body


def line(body: Any) -> dict:
    assert set(body) == LINE_KEYS, body
    assert is_id(body["product_id"]), body
    assert isinstance(body["sku"], str) and isinstance(body["name"], str), body
    assert type(body["quantity"]) is int and body["quantity"] > 0, body
    assert money(body["line_total"]) == money(body["unit_price"]) * body["quantity"], body
    return body


def cart(body: Any) -> dict:
    assert set(body) == CART_KEYS, body
    assert isinstance(body["items"], list), body
    for item in body["items"]:
        line(item)
    assert type(body["item_count"]) is int, body
    assert body["item_count"] == sum(item["quantity"] for item in body["items"]), body
    assert money(body["total"]) == sum(
        (Decimal(item["line_total"]) for item in body["items"]), Decimal("0.00")
    ), body
    return body


def order(body: Any) -> dict:
    assert set(body) == ORDER_KEYS, body
    assert is_id(body["id"]), body
    assert body["status"] in {"pending_payment", "paid", "cancelled"}, body
    assert isinstance(body["items"], list) and body["items"], body
    for item in body["items"]:
        line(item)
    assert money(body["total"]) == sum(Decimal(item["line_total"]) for item in body["items"])
    timestamp(body["created_at"])
    if body["status"] == "paid":
        timestamp(body["paid_at"])
    else:
        assert body["paid_at"] is None, body
    return body


def payment(body: Any) -> dict:
    assert set(body) == PAYMENT_KEYS, body
    assert is_id(body["order_id"]) and is_id(body["payment_id"]), body
    money(body["amount"])
    assert body["status"] == "paid", body
    return body


def page(body: Any, *, base_url: str) -> dict:
    """A paginated list whose links are absolute URLs of the host the client used."""
    assert set(body) == PAGE_KEYS, body
    assert type(body["count"]) is int and body["count"] >= 0, body
    assert isinstance(body["results"], list), body
    for link in ("next", "previous"):
        value = body[link]
        assert value is None or value.startswith(f"{base_url}/"), (link, value, base_url)
    return body
