"""Reviews: one per user per product, newest first (shop-api.md, domain `reviews`)."""

from __future__ import annotations

import pytest

from tests.contract import shapes
from tests.contract.test_catalog import MISSING_ID

REVIEW = {"rating": 4, "title": "Solid", "body": "Does what it says."}


def _post_review(shop, account, product_id, **overrides):
    return shop.post(f"/api/products/{product_id}/reviews", account, json={**REVIEW, **overrides})


def test_a_product_without_reviews_has_an_empty_page(shop, base_url, product):
    page = shapes.page(
        shapes.json_body(shop.get(f"/api/products/{product['id']}/reviews"), 200),
        base_url=base_url,
    )

    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_customer_reviews_a_product(shop, shopper, product):
    response = _post_review(shop, shopper, product["id"], rating=5, title="Great", body="Yes.")

    review = shapes.review(shapes.json_body(response, 201))
    assert review["product_id"] == product["id"]
    assert review["user"] == {"id": shopper.id, "name": shopper.name}
    assert (review["rating"], review["title"], review["body"]) == (5, "Great", "Yes.")


def test_reviews_are_public_and_listed_newest_first(shop, base_url, make_customer, product):
    older = shapes.json_body(_post_review(shop, make_customer(), product["id"], rating=2), 201)
    newer = shapes.json_body(_post_review(shop, make_customer(), product["id"], rating=5), 201)

    page = shapes.page(
        shapes.json_body(shop.get(f"/api/products/{product['id']}/reviews"), 200),
        base_url=base_url,
    )

    assert page["count"] == 2
    assert page["results"] == [newer, older]
    for item in page["results"]:
        shapes.review(item)


def test_reviews_paginate(shop, base_url, make_customer, product):
    for _ in range(3):
        shapes.json_body(_post_review(shop, make_customer(), product["id"]), 201)

    response = shop.get(f"/api/products/{product['id']}/reviews", params={"page_size": 2})

    page = shapes.page(shapes.json_body(response, 200), base_url=base_url)
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_a_second_review_by_the_same_user_is_a_409_already_reviewed(
    shop, base_url, shopper, product
):
    shapes.json_body(_post_review(shop, shopper, product["id"]), 201)

    again = _post_review(shop, shopper, product["id"], rating=1, title="Changed my mind")

    shapes.error_detail(again, 409, code="already_reviewed")
    page = shop.get(f"/api/products/{product['id']}/reviews").json()
    assert page["count"] == 1 and page["results"][0]["rating"] == REVIEW["rating"]


def test_the_same_user_may_review_different_products(shop, shopper, make_product):
    shapes.json_body(_post_review(shop, shopper, make_product()["id"]), 201)

    shapes.json_body(_post_review(shop, shopper, make_product()["id"]), 201)


def test_reviewing_needs_a_token(shop, product):
    shapes.unauthorized(shop.post(f"/api/products/{product['id']}/reviews", json=REVIEW))


@pytest.mark.parametrize("rating", [0, 6, -1, "five", None, 4.5])
def test_a_rating_outside_one_to_five_is_a_400(shop, shopper, product, rating):
    shapes.field_errors(_post_review(shop, shopper, product["id"], rating=rating), "rating")


@pytest.mark.parametrize("rating", [1, 5])
def test_ratings_one_and_five_are_accepted(shop, shopper, product, rating):
    review = shapes.json_body(_post_review(shop, shopper, product["id"], rating=rating), 201)

    assert review["rating"] == rating


def test_a_review_without_fields_names_them(shop, shopper, product):
    response = shop.post(f"/api/products/{product['id']}/reviews", shopper, json={})

    shapes.field_errors(response, "rating")


def test_reviews_of_an_unknown_product_are_a_404(shop, shopper):
    shapes.error_detail(shop.get(f"/api/products/{MISSING_ID}/reviews"), 404)
    shapes.error_detail(_post_review(shop, shopper, MISSING_ID), 404)
