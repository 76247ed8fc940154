from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from orders import services as order_services
from orders.models import Order
from payments import services
from payments.cards import is_expired, passes_luhn
from payments.gateways import Charge, TestGateway, payment_gateway
from payments.models import Payment
from strangler.sync import compensations
from strangler.sync.models import Compensation

pytestmark = pytest.mark.django_db(transaction=True)
GOOD_CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


@pytest.fixture
def order_id(api, as_customer, make_product):
    product = make_product(price="12.50")
    api.put(f"/api/cart/items/{product.pk}", {"quantity": 2}, format="json", **as_customer)
    return api.post("/api/orders", **as_customer).json()["id"]


def _pay(api, headers, order_id, **card):
    return api.post(f"/api/orders/{order_id}/pay", {**GOOD_CARD, **card}, format="json", **headers)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4242424242424242", True), ("4000000000000002", True), ("4242424242424241", False)],
)
def test_luhn(number, valid):
    assert passes_luhn(number) is valid


def test_a_card_is_valid_through_its_expiry_month():
    assert not is_expired(exp_month=11, exp_year=2026, today=date(2026, 11, 30))
    assert is_expired(exp_month=10, exp_year=2026, today=date(2026, 11, 1))


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_paying_marks_the_order_paid_and_sends_the_confirmation_after_commit(
    api, as_customer, order_id, django_capture_on_commit_callbacks
):
    from shop.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = _pay(api, as_customer, order_id)
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 200
    assert response.json() == {
        "order_id": order_id,
        "payment_id": Payment.objects.get().pk,
        "amount": "25.00",
        "status": "paid",
    }
    order = api.get(f"/api/orders/{order_id}", **as_customer).json()
    assert order["status"] == "paid"
    assert order["paid_at"] is not None
    assert len(mail.outbox) == 1
    assert f"#{order_id}" in mail.outbox[0].subject


def test_second_payment_is_409_and_charges_once(api, as_customer, order_id):
    assert _pay(api, as_customer, order_id).status_code == 200
    second = _pay(api, as_customer, order_id)
    assert second.status_code == 409
    assert second.json()["code"] == "not_payable"
    assert Payment.objects.count() == 1


def test_declined_card_is_402_and_leaves_the_order_payable(api, as_customer, order_id):
    declined = _pay(api, as_customer, order_id, card_number="4000000000000002")
    assert declined.status_code == 402
    assert declined.json() == {"detail": "Your card was declined.", "code": "card_declined"}
    assert _pay(api, as_customer, order_id).status_code == 200


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"card_number": "4242424242424241"}, "card_number"),
        ({"card_number": "4242-4242"}, "card_number"),
        ({"exp_month": 13}, "exp_month"),
        ({"exp_month": 1, "exp_year": 2020}, "exp_year"),
        ({"cvc": "12"}, "cvc"),
    ],
)
def test_invalid_cards_are_400_naming_the_field(api, as_customer, order_id, card, field):
    response = _pay(api, as_customer, order_id, **card)
    assert response.status_code == 400
    assert field in response.json()


def test_a_cancelled_order_is_not_payable(api, as_customer, order_id):
    api.post(f"/api/orders/{order_id}/cancel", **as_customer)
    assert _pay(api, as_customer, order_id).json()["code"] == "not_payable"


def test_paying_another_users_order_is_404(api, as_other_customer, order_id):
    assert _pay(api, as_other_customer, order_id).status_code == 404


class CancelledWhileChargingGateway(TestGateway):
    """Approves the charge after the customer's cancel reached the order's owner: the payment
    loses the race at the owner. Records what it voided."""

    voided: list[str] = []

    def charge(self, **kwargs) -> Charge:
        order = Order.objects.get()
        order_services.cancel_order(order=order)
        return super().charge(**kwargs)

    def void(self, *, idempotency_key: str) -> None:
        self.voided.append(idempotency_key)


@pytest.fixture
def cancelled_while_charging(settings):
    settings.PAYMENT_GATEWAY = f"{__name__}.CancelledWhileChargingGateway"
    payment_gateway.cache_clear()
    CancelledWhileChargingGateway.voided = []
    yield CancelledWhileChargingGateway
    payment_gateway.cache_clear()


def test_a_charge_whose_order_was_cancelled_meanwhile_is_voided_and_409(
    api, as_customer, order_id, cancelled_while_charging
):
    response = _pay(api, as_customer, order_id)

    assert response.status_code == 409 and response.json()["code"] == "not_payable"
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.VOIDED
    assert cancelled_while_charging.voided == [payment.key]
    assert Order.objects.get(pk=order_id).status == "cancelled"


def test_a_voided_or_declined_payment_leaves_room_for_the_next_attempt_only(
    api, as_customer, order_id
):
    _pay(api, as_customer, order_id, card_number="4000000000000002")

    assert _pay(api, as_customer, order_id).status_code == 200
    assert _pay(api, as_customer, order_id).status_code == 409
    statuses = sorted(Payment.objects.values_list("status", flat=True))
    assert statuses == ["declined", "succeeded"]


def _stopped_payment(order_id: int, *, charged: bool) -> Payment:
    """A payment whose process died after the charge (recorded or not), before its conclusion:
    what the sweeper finds."""
    key = "payment-stopped"
    Compensation.objects.create(key=key, action=services.CONCLUDE, due_at=timezone.now())
    return Payment.objects.create(
        order_id=order_id,
        key=key,
        amount=Decimal("25.00"),
        gateway="test",
        gateway_reference="test_ref" if charged else "",
        card_last4="4242",
    )


def test_the_sweeper_concludes_a_recorded_charge_by_the_owners_answer_and_mails_once(
    order_id, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services.send_order_confirmation, "delay", lambda **kw: queued.append(kw))
    payment = _stopped_payment(order_id, charged=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert compensations.sweep() == 1
        services.conclude_payment(payment.key)

    payment.refresh_from_db()
    order = Order.objects.get(pk=order_id)
    assert (payment.status, order.status, order.payment_id) == ("succeeded", "paid", payment.pk)
    assert queued == [{"payment_id": payment.pk}]
    assert not Compensation.objects.exists()


def test_the_sweeper_voids_a_charge_never_recorded_and_leaves_the_order_payable(
    api, as_customer, order_id
):
    payment = _stopped_payment(order_id, charged=False)

    assert compensations.sweep() == 1

    payment.refresh_from_db()
    assert payment.status == "voided"
    assert Order.objects.get(pk=order_id).status == "pending_payment"
    assert _pay(api, as_customer, order_id).status_code == 200


def test_a_confirmation_is_mailed_once_however_often_asked(api, as_customer, order_id):
    assert _pay(api, as_customer, order_id).status_code == 200
    payment = Payment.objects.get()

    sent = [services.send_confirmation(payment_id=payment.pk) for _ in range(3)]

    assert sent == [True, False, False]
    assert len(mail.outbox) == 1 and f"#{order_id}" in mail.outbox[0].subject


def test_a_confirmation_never_queued_is_mailed_by_the_beat_once_due(
    api, as_customer, order_id, monkeypatch
):
    def broker_away(**kwargs):
        raise OSError("the broker is away")

    monkeypatch.setattr(services.send_order_confirmation, "delay", broker_away)
    assert _pay(api, as_customer, order_id).status_code == 200
    assert services.send_due_confirmations() == 0  # not due yet: its task may still run

    Payment.objects.update(created_at=timezone.now() - services.CONFIRMATION_DUE_AFTER)
    assert services.send_due_confirmations() == 1
    assert services.send_due_confirmations() == 0
    assert len(mail.outbox) == 1
