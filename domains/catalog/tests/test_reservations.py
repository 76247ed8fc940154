"""Stock reservations at the catalog's owner: idempotent on the key, all or nothing, released
exactly once; and the internal API the order code of other backends calls them through."""

import pytest

from catalog import selectors, services
from catalog.models import Product, StockReservation
from strangler.sync.models import OutboxEvent

pytestmark = pytest.mark.django_db


def _stock(*products: Product) -> list[int]:
    return [Product.objects.get(pk=p.pk).stock for p in products]


def test_a_reservation_takes_every_line_and_records_it_for_the_copies(make_product):
    lamp, kettle = make_product(stock=5), make_product(stock=3)

    reservation = services.reserve_stock(key="k1", quantities={lamp.pk: 2, kettle.pk: 3})

    assert _stock(lamp, kettle) == [3, 0]
    assert reservation.state == "held"
    assert reservation.quantities == {lamp.pk: 2, kettle.pk: 3}
    recorded = set(OutboxEvent.objects.values_list("aggregate_type", "aggregate_id"))
    assert {("product", str(lamp.pk)), ("stock_reservation", str(reservation.pk))} <= recorded


def test_a_reservation_short_of_one_line_takes_nothing(make_product):
    lamp, kettle = make_product(stock=5), make_product(stock=1)

    with pytest.raises(services.OutOfStock) as refused:
        services.reserve_stock(key="k1", quantities={lamp.pk: 2, kettle.pk: 2})

    assert refused.value.product_id == kettle.pk
    assert _stock(lamp, kettle) == [5, 1]
    assert not StockReservation.objects.exists()


def test_reserving_the_same_key_twice_takes_the_stock_once(make_product):
    lamp = make_product(stock=5)

    first = services.reserve_stock(key="k1", quantities={lamp.pk: 2})
    again = services.reserve_stock(key="k1", quantities={lamp.pk: 2})

    assert again.pk == first.pk
    assert _stock(lamp) == [3]


def test_a_release_gives_the_stock_back_exactly_once(make_product):
    lamp = make_product(stock=5)
    services.reserve_stock(key="k1", quantities={lamp.pk: 2})

    services.release_stock(key="k1")
    services.release_stock(key="k1")

    assert _stock(lamp) == [5]
    assert StockReservation.objects.get(key="k1").state == "released"


def test_a_key_released_before_its_reservation_arrives_can_no_longer_take_stock(make_product):
    lamp = make_product(stock=5)

    services.release_stock(key="late")
    with pytest.raises(services.ReservationReleased):
        services.reserve_stock(key="late", quantities={lamp.pk: 2})

    assert _stock(lamp) == [5]


def test_the_summary_counts_held_units_and_the_oldest_hold(make_product):
    lamp = make_product(stock=5)
    services.reserve_stock(key="k1", quantities={lamp.pk: 2})
    services.reserve_stock(key="k2", quantities={lamp.pk: 1})
    services.release_stock(key="k2")

    summary = selectors.reservation_summary()

    assert summary["held"] == 1
    assert summary["released"] == 1
    assert summary["units_held"] == 2
    assert summary["oldest_held_seconds"] >= 0


def _put(api, headers, key, lines):
    return api.put(
        f"/internal/catalog/reservations/{key}", {"lines": lines}, format="json", **headers
    )


def test_the_internal_api_is_hidden_from_callers_without_the_token(
    api, internal_headers, make_product
):
    lamp = make_product(stock=5)

    without = _put(api, {}, "k1", {str(lamp.pk): 1})
    wrong = _put(api, {"HTTP_X_INTERNAL_TOKEN": "guess"}, "k1", {str(lamp.pk): 1})

    assert (without.status_code, wrong.status_code) == (404, 404)
    assert _stock(lamp) == [5]


def test_the_internal_api_reserves_and_releases_idempotently(api, internal_headers, make_product):
    lamp = make_product(stock=5)

    first = _put(api, internal_headers, "k1", {str(lamp.pk): 2})
    again = _put(api, internal_headers, "k1", {str(lamp.pk): 2})
    released = api.delete("/internal/catalog/reservations/k1", **internal_headers)
    released_again = api.delete("/internal/catalog/reservations/k1", **internal_headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["lines"] == {str(lamp.pk): 2}
    assert (released.json()["state"], released_again.json()["state"]) == ("released", "released")
    assert _stock(lamp) == [5]


def test_a_reservation_answers_what_its_units_cost_when_taken_even_after_a_price_change(
    api, internal_headers, make_product
):
    lamp = make_product(stock=5, price="12.50", name="Lamp")

    first = _put(api, internal_headers, "k1", {str(lamp.pk): 2})
    services.update_product(product=lamp, changes={"price": "99.00", "name": "Lamp II"})
    replayed = _put(api, internal_headers, "k1", {str(lamp.pk): 2})

    priced = {str(lamp.pk): {"sku": lamp.sku, "name": "Lamp", "unit_price": "12.50"}}
    assert first.json()["priced"] == replayed.json()["priced"] == priced


def test_the_internal_api_answers_out_of_stock_with_the_product(
    api, internal_headers, make_product
):
    lamp = make_product(stock=1)

    response = _put(api, internal_headers, "k1", {str(lamp.pk): 2})

    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["product_id"] == lamp.pk


@pytest.mark.parametrize("lines", [{}, {"x": 1}, {"1": 0}, {"1": -2}, {"1": "many"}, []], ids=repr)
def test_the_internal_api_refuses_bad_lines_with_a_400(api, internal_headers, lines):
    assert _put(api, internal_headers, "k1", lines).status_code == 400


def test_a_key_with_characters_outside_the_alphabet_is_a_404(api, internal_headers):
    response = api.delete("/internal/catalog/reservations/a%20b", **internal_headers)

    assert response.status_code == 404


def test_an_edit_made_from_a_stale_read_keeps_the_stock_reserved_meanwhile(make_product):
    lamp = make_product(stock=5)
    stale = Product.objects.get(pk=lamp.pk)
    services.reserve_stock(key="k1", quantities={lamp.pk: 2})

    services.update_product(product=stale, changes={"description": "edited"})

    assert _stock(lamp) == [3]
    assert Product.objects.get(pk=lamp.pk).description == "edited"


def test_the_event_of_a_partial_save_carries_the_rows_stock_not_the_stale_one(make_product):
    lamp = make_product(stock=5)
    stale = Product.objects.get(pk=lamp.pk)
    services.reserve_stock(key="k1", quantities={lamp.pk: 2})

    services.update_product(product=stale, changes={"description": "edited"})

    last = OutboxEvent.objects.filter(aggregate_type="product").order_by("-id").first()
    assert last.payload["stock"] == 3
    assert last.payload["description"] == "edited"
