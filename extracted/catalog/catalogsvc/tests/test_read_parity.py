"""The service's read path answers what the domain's views answer, as the monolith serves
them (the same views, without the read cache or the faster product read): the same status,
bytes and headers, but for the ETag it adds."""

from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from catalog.models import Category, Product
from catalogsvc.reads import is_plain_read
from strangler.service.backend import READ_CACHE_MIDDLEWARE

pytestmark = pytest.mark.django_db
REQUEST_ID = {"HTTP_X_REQUEST_ID": "one-request-id"}


def _seen(answer) -> tuple[int, bytes, dict[str, str]]:
    return answer.status_code, answer.content, {k: v for k, v in answer.items() if k != "ETag"}


def _as_the_monolith_answers(path: str, **headers):
    from django.conf import settings as django_settings

    plain = [m for m in django_settings.MIDDLEWARE if m != READ_CACHE_MIDDLEWARE]
    with override_settings(MIDDLEWARE=plain, ROOT_URLCONF="catalogsvc.tests.domain_urls"):
        return APIClient().get(path, **headers)


REQUESTS = [
    ("/api/categories", {}),
    ("/api/products", {}),
    ("/api/products?page_size=1&page=2", {"HTTP_X_FORWARDED_HOST": "shop.example"}),
    ("/api/products?ordering=-price&category=books&q=Product&min_price=1", {}),
    ("/api/products/{id}", {}),
    ("/api/products/{id}", {"HTTP_ACCEPT": "*/*"}),
    ("/api/products/{id}", {"HTTP_ACCEPT": "application/json; indent=4"}),
    ("/api/products/{id}", {"HTTP_ACCEPT": "text/html"}),
    ("/api/products/{id}?format=json", {}),
    ("/api/products/{id}", {"HTTP_AUTHORIZATION": "Bearer nonsense"}),
    ("/api/products/{id}", {"HTTP_HOST": "shop.example", "HTTP_X_FORWARDED_PROTO": "https"}),
    ("/api/products/987654", {}),
    ("/api/products?ordering=price;drop", {}),
    ("/api/products?page_size=1000", {}),
]


@pytest.mark.parametrize(("path", "headers"), REQUESTS)
def test_answers_computed_or_kept_are_the_domain_views_but_for_the_etag(
    api, make_product, path, headers
):
    lamp = make_product(name="Product lamp", price="12.50", description="A lamp \u2028 é")
    make_product()
    path = path.format(id=lamp.pk)
    headers = {**headers, **REQUEST_ID}

    computed, kept = api.get(path, **headers), api.get(path, **headers)
    reference = _as_the_monolith_answers(path, **headers)

    assert _seen(computed) == _seen(kept) == _seen(reference)
    assert ("ETag" in computed) == (computed.status_code == 200)


def test_a_customers_read_is_the_domain_views(api, make_product, as_customer):
    lamp = make_product()
    headers = {**as_customer, **REQUEST_ID}

    answer = api.get(f"/api/products/{lamp.pk}", **headers)

    assert _seen(answer) == _seen(_as_the_monolith_answers(f"/api/products/{lamp.pk}", **headers))


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=80,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=names,
    description=st.one_of(st.just(""), names),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
    stock=st.integers(min_value=0, max_value=1_000_000_000),
    slug=st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
)
def test_any_product_is_read_the_faster_way_as_the_domain_view_reads_it(
    name, description, price, stock, slug
):
    category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": slug})
    product = Product.objects.create(
        sku=f"HYP-{Product.objects.count()}",
        name=name,
        description=description,
        price=price,
        category=category,
        stock=stock,
    )
    path = f"/api/products/{product.pk}"

    faster = APIClient().get(path, **REQUEST_ID)

    assert _seen(faster) == _seen(_as_the_monolith_answers(path, **REQUEST_ID))


@pytest.mark.parametrize(
    ("query", "headers", "plain"),
    [
        ("", {}, True),
        ("", {"HTTP_ACCEPT": "*/*"}, True),
        ("", {"HTTP_ACCEPT": "application/json"}, True),
        ("", {"HTTP_ACCEPT": "application/json; indent=2"}, False),
        ("", {"HTTP_ACCEPT": "text/html"}, False),
        ("format=json", {}, False),
        ("", {"HTTP_AUTHORIZATION": "Bearer x"}, False),
    ],
)
def test_only_plain_reads_take_the_faster_way(rf, query, headers, plain):
    assert is_plain_read(rf.get(f"/api/products/1?{query}", **headers)) is plain
    assert not is_plain_read(rf.head("/api/products/1"))


@pytest.mark.parametrize("host", ["shop.example", "elsewhere.example"])
def test_a_host_outside_allowed_hosts_gets_the_same_400(api, make_product, settings, host):
    lamp = make_product()
    settings.ALLOWED_HOSTS = ["shop.example"]
    headers = {"HTTP_HOST": host, **REQUEST_ID}

    answer = api.get(f"/api/products/{lamp.pk}", **headers)

    assert _seen(answer) == _seen(_as_the_monolith_answers(f"/api/products/{lamp.pk}", **headers))
    assert answer.status_code == (200 if host == "shop.example" else 400)
