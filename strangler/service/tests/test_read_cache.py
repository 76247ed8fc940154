"""The read cache's parts: which paths it caches (as the plan routes them), what its key and
ETag vary on, what it keeps, and that a backend that does not switch it on (the monolith) runs
without it. Its behaviour end to end is tested where it is switched on, in the catalog service
(extracted/catalog/catalogsvc/tests/test_read_path.py)."""

import pytest
from django.http import HttpResponse, JsonResponse

from strangler.conf import strangler_settings
from strangler.service.backend import READ_CACHE_MIDDLEWARE
from strangler.service.read_cache import (
    CachedRoutes,
    KeptAnswer,
    etag_of,
    fingerprint,
    is_keepable,
    names_etag,
    not_modified,
    request_variant,
)
from strangler.sync.generations import Generation


@pytest.fixture
def catalog_routes() -> CachedRoutes:
    return CachedRoutes(strangler_settings.plan, frozenset({"catalog"}))


@pytest.mark.parametrize(
    "path",
    ["/api/categories", "/api/products", "/api/products/7", "/api/products/not-an-id"],
)
def test_reads_of_the_cached_domain_are_cached(catalog_routes, path):
    assert catalog_routes.domain(path) == "catalog"


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/7/reviews",  # a more specific route, of the reviews domain
        "/api/cart",
        "/internal/catalog/reservations/key-1",  # internal routes are never cached
        "/api/products/",
        "/healthz",
        "/somewhere/else",
    ],
)
def test_other_paths_are_not(catalog_routes, path):
    assert catalog_routes.domain(path) is None


def test_nothing_is_cached_without_cached_domains():
    routes = CachedRoutes(strangler_settings.plan, frozenset())

    assert routes.domain("/api/products") is None


def _generation(value: int = 1, epoch: str = "e" * 32) -> Generation:
    return Generation(domain="catalog", epoch=epoch, value=value)


def test_the_key_varies_with_the_generation_its_epoch_the_url_and_accept(rf):
    plain = request_variant(rf.get("/api/products?page=2"))
    variants = {
        plain,
        request_variant(rf.get("/api/products?page=3")),
        request_variant(rf.get("/api/products?page=2", HTTP_HOST="shop.example")),
        request_variant(rf.get("/api/products?page=2", HTTP_X_FORWARDED_PROTO="https")),
        request_variant(rf.get("/api/products?page=2", HTTP_ACCEPT="application/json")),
    }
    keys = {fingerprint(_generation(), variant) for variant in variants}
    keys |= {fingerprint(_generation(value=2), plain), fingerprint(_generation(epoch="f"), plain)}

    assert len(variants) == 5
    assert len(keys) == 7


def test_the_key_ignores_what_does_not_change_the_answer(rf):
    first = rf.get("/api/products", HTTP_X_REQUEST_ID="one", HTTP_USER_AGENT="a")
    second = rf.get("/api/products", HTTP_X_REQUEST_ID="two", HTTP_USER_AGENT="b")

    assert request_variant(first) == request_variant(second)


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"other", "abc"', True),
        ("*", True),
        ('"other"', False),
        ('"ab"', False),
        ("", False),
    ],
)
def test_if_none_match_names_an_etag_by_weak_comparison(rf, header, named):
    request = rf.get("/api/products", HTTP_IF_NONE_MATCH=header)

    assert names_etag(request, '"abc"') is named


def test_an_etag_is_a_quoted_string():
    assert etag_of("0123456789abcdef" * 4) == '"0123456789abcdef0123456789abcdef"'


def test_a_json_200_is_kept_and_given_back_as_it_was():
    response = JsonResponse({"id": 1})
    response["Allow"] = "GET, HEAD"

    kept = KeptAnswer.of(response).response()

    assert is_keepable(response)
    assert (kept.status_code, kept.content, dict(kept.items())) == (
        200,
        response.content,
        dict(response.items()),
    )


def _with(response: HttpResponse, **headers: str) -> HttpResponse:
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@pytest.mark.parametrize(
    "response",
    [
        JsonResponse({"detail": "Not found."}, status=404),
        JsonResponse({"detail": "bad"}, status=400),
        _with(JsonResponse({}), Vary="Cookie"),
        _with(JsonResponse({}), Vary="Accept, Authorization"),
    ],
)
def test_what_the_key_does_not_cover_is_not_kept(response):
    assert not is_keepable(response)


def test_an_answer_that_sets_a_cookie_is_not_kept():
    response = JsonResponse({})
    response.set_cookie("session", "x")

    assert not is_keepable(response)


def test_an_answer_varying_on_accept_only_is_kept():
    assert is_keepable(_with(JsonResponse({}), Vary="Accept"))


def test_a_304_repeats_the_etag_and_vary_but_no_body():
    response = _with(JsonResponse({"id": 1}), ETag='"abc"', Vary="Accept")

    answer = not_modified(response)

    assert answer.status_code == 304
    assert answer.content == b""
    assert (answer["ETag"], answer["Vary"]) == ('"abc"', "Accept")


def test_the_monolith_runs_without_the_read_cache(settings, client, make_product):
    product = make_product()

    answer = client.get(f"/api/products/{product.pk}")

    assert READ_CACHE_MIDDLEWARE not in settings.MIDDLEWARE
    assert strangler_settings.READ_CACHE_DOMAINS == ()
    assert answer.status_code == 200
    assert "ETag" not in answer
