import json

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from strangler.service.errors import (
    BusinessRuleError,
    ConflictError,
    PaymentRequiredError,
    exception_handler,
    json_bad_request,
    json_error,
    json_not_found,
    json_server_error,
)


def test_coded_errors_carry_their_code_and_extra_fields_beside_the_detail():
    response = exception_handler(
        ConflictError("Not enough stock.", code="out_of_stock", product_id=7), {}
    )

    assert response.status_code == 409
    assert response.data == {"detail": "Not enough stock.", "code": "out_of_stock", "product_id": 7}


def test_business_rule_and_payment_errors_keep_the_shape_with_their_own_status():
    business = exception_handler(BusinessRuleError("Your cart is empty.", code="empty_cart"), {})
    payment = exception_handler(PaymentRequiredError("Declined.", code="card_declined"), {})

    assert (business.status_code, business.data["code"]) == (400, "empty_cart")
    assert (payment.status_code, payment.data["code"]) == (402, "card_declined")


def test_other_api_errors_keep_drf_s_shape():
    response = exception_handler(exceptions.NotAuthenticated(), {})

    assert response.status_code == 401
    assert response.data == {"detail": "Authentication credentials were not provided."}


def test_exceptions_drf_does_not_handle_are_left_to_django():
    assert exception_handler(ValueError("boom"), {}) is None


def test_django_error_pages_are_byte_identical_to_drf_s_rendering(rf):
    request = rf.get("/")
    for handler, status, detail in [
        (json_not_found, 404, "Not found."),
        (json_bad_request, 400, "Bad request."),
        (json_server_error, 500, "Internal server error."),
    ]:
        response = handler(request)
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert response.content == JSONRenderer().render({"detail": detail})


def test_non_ascii_details_are_sent_as_utf8_not_escaped():
    response = json_error("Überfüllt", status=409)

    assert json.loads(response.content) == {"detail": "Überfüllt"}
    assert "Ü".encode() in response.content


@pytest.mark.parametrize(
    "lost", [OperationalError("connection refused"), InterfaceError("connection already closed")]
)
def test_an_unreachable_database_is_a_503_the_proxy_can_fall_back_on(lost):
    response = exception_handler(lost, {})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.data == {
        "detail": "Service unavailable: its database cannot be reached; retry later."
    }
    assert "refused" not in json.dumps(response.data)
