"""Which address a request came from: X-Forwarded-For is believed only from trusted proxies."""

import pytest
from django.test import RequestFactory, override_settings

from strangler.service.client_address import client_address


def request(remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_a_direct_client_is_its_own_address_whatever_it_claims():
    assert client_address(request("203.0.113.5", "10.9.9.9")) == "203.0.113.5"


def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended():
    # The client forged the first entry; the proxy appended the address it saw.
    assert client_address(request("127.0.0.1", "10.9.9.9, 203.0.113.5")) == "203.0.113.5"
    assert client_address(request("::1", "2001:db8::7")) == "2001:db8::7"


@override_settings(STRANGLER_TRUSTED_PROXIES=["127.0.0.1/32", "10.0.0.0/8"])
def test_trusted_hops_are_skipped_from_the_right():
    forwarded = "198.51.100.1, 203.0.113.5, 10.0.0.2"
    assert client_address(request("127.0.0.1", forwarded)) == "203.0.113.5"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.5, junk"])
def test_without_a_usable_header_the_address_is_the_proxys_or_unknown(forwarded):
    address = client_address(request("127.0.0.1", forwarded))
    assert address == ("127.0.0.1" if not forwarded else "unknown")


def test_no_request_is_unknown():
    assert client_address(None) == "unknown"
