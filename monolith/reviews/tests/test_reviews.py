import pytest

pytestmark = pytest.mark.django_db
REVIEW = {"rating": 4, "title": "Good", "body": "Would buy again"}


def test_review_shape_and_one_review_per_user(api, as_customer, customer, make_product):
    product = make_product()
    created = api.post(f"/api/products/{product.pk}/reviews", REVIEW, format="json", **as_customer)
    assert created.status_code == 201
    body = created.json()
    assert body["product_id"] == product.pk
    assert body["user"] == {"id": customer.pk, "name": "Ann"}
    again = api.post(f"/api/products/{product.pk}/reviews", REVIEW, format="json", **as_customer)
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"


def test_reviews_are_listed_newest_first(api, as_customer, as_other_customer, make_product):
    product = make_product()
    api.post(f"/api/products/{product.pk}/reviews", REVIEW, format="json", **as_customer)
    api.post(f"/api/products/{product.pk}/reviews", REVIEW, format="json", **as_other_customer)
    names = [
        r["user"]["name"] for r in api.get(f"/api/products/{product.pk}/reviews").json()["results"]
    ]
    assert names == ["Bob", "Ann"]


@pytest.mark.parametrize("rating", [0, 6, "five"])
def test_rating_outside_one_to_five_is_400(api, as_customer, make_product, rating):
    product = make_product()
    response = api.post(
        f"/api/products/{product.pk}/reviews",
        {**REVIEW, "rating": rating},
        format="json",
        **as_customer,
    )
    assert response.status_code == 400


def test_reviews_of_an_unknown_product_are_404_and_posting_needs_a_token(api, make_product):
    assert api.get("/api/products/999999/reviews").status_code == 404
    product = make_product()
    assert api.post(f"/api/products/{product.pk}/reviews", REVIEW, format="json").status_code == 401
