"""Hostile requests sent straight to a backend (no proxy in front): a Host outside the allow-list,
oversized or malformed cookies, an X-Request-ID with CR/LF, raw bytes or no end. Each is refused
with a 4xx or served with the hostile part dropped: never a 5xx, never echoed back."""

from __future__ import annotations

import pytest

from tests.security.conftest import REQUEST_ID, SecureShop
from tests.support.raw_http import RawResponse, build_request, exchange

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

MARK = b"zzhostile"
LIST = "/api/products?page_size=1"  # paginated: its `next` link is built from the host


def send(
    shop: SecureShop,
    *headers: tuple[bytes | str, bytes | str],
    target: str = LIST,
    method: str = "GET",
    host: bytes | str | None = None,
    body: bytes = b"",
) -> RawResponse:
    host_header = (b"Host", f"{shop.host}:{shop.port}" if host is None else host)
    request = build_request(method, target, [host_header, *headers], body)
    return exchange(shop.host, shop.port, request)


def assert_safe(response: RawResponse, *hostile: bytes) -> None:
    """No 5xx; any X-Request-ID is a sane token; nothing hostile comes back."""
    assert response.status < 500, response.raw[:1000]
    for request_id in response.header("x-request-id"):
        assert REQUEST_ID.match(request_id), request_id
    for part in (MARK, *hostile):
        assert part not in response.raw, response.raw[:1000]


def assert_refused(response: RawResponse, *hostile: bytes) -> None:
    assert_safe(response, *hostile)
    assert 400 <= response.status < 500, response.raw[:1000]


def test_a_plain_request_is_served(secure_shop):
    """The control: the raw client and the allowed host work, so refusals below mean it."""
    response = send(secure_shop)

    assert response.status == 200, response.raw[:1000]
    assert f"http://{secure_shop.host}:{secure_shop.port}/".encode() in response.body


HOSTILE_HOSTS = [
    b"zzhostile.example",
    b"zzhostile.example:80",
    b"127.0.0.1@zzhostile.example",
    b"127.0.0.1.zzhostile.example",
    b"zzhostile.example/127.0.0.1",
    b"127.0.0.1:80/zzhostile",
    b"127.0.0.1 zzhostile.example",
    b"\xc3\xa9zzhostile.example",
    b"zzhostile" * 500,
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=lambda host: repr(host[:40]))
def test_a_host_outside_the_allow_list_is_refused_and_never_echoed(secure_shop, host):
    assert_refused(send(secure_shop, host=host))


@pytest.mark.parametrize("target", [LIST, "/healthz", "/api/auth/me", "/admin/login/"])
def test_a_forwarded_host_outside_the_allow_list_never_names_a_link(secure_shop, target):
    response = send(secure_shop, (b"X-Forwarded-Host", b"zzhostile.example"), target=target)

    assert_refused(response)


def test_an_absolute_request_target_on_another_host_never_names_a_link(secure_shop):
    response = send(secure_shop, target=f"http://zzhostile.example{LIST}")

    assert_safe(response)


@pytest.mark.parametrize("size", [100, 4000, 7000])
def test_a_large_cookie_under_the_header_limit_is_ignored(secure_shop, size):
    response = send(secure_shop, (b"Cookie", b"junk=" + b"x" * size))

    assert response.status == 200, response.raw[:1000]
    assert_safe(response)


def test_a_cookie_over_the_header_limit_is_refused(secure_shop):
    response = send(secure_shop, (b"Cookie", b"junk=" + MARK * 2000))

    assert_refused(response)


def test_hundreds_of_cookie_headers_are_refused(secure_shop):
    cookies = [(b"Cookie", f"c{n}=".encode() + MARK) for n in range(300)]

    assert_refused(send(secure_shop, *cookies))


HOSTILE_COOKIES = [
    b"sessionid=" + MARK * 400,
    b"sessionid=../../../../etc/passwd; csrftoken=" + MARK,
    b"sessionid=\xff\xfe" + MARK + b"\xc3\xa9",
    b'sessionid="' + MARK + b'\\"; =; ;;; =x',
    b"csrftoken=" + MARK * 100,
    b"a=b; " * 1000,
]


@pytest.mark.parametrize("cookie", HOSTILE_COOKIES, ids=lambda cookie: repr(cookie[:30]))
@pytest.mark.parametrize("target", ["/admin/login/", LIST, "/api/cart"])
def test_a_malformed_session_or_csrf_cookie_is_never_a_server_error(secure_shop, cookie, target):
    assert_safe(send(secure_shop, (b"Cookie", cookie), target=target))


def test_a_post_with_a_hostile_csrf_cookie_is_refused(secure_shop):
    body = b"username=a&password=b&csrfmiddlewaretoken=" + MARK
    response = send(
        secure_shop,
        (b"Cookie", b"csrftoken=" + MARK * 10),
        (b"Content-Type", b"application/x-www-form-urlencoded"),
        target="/admin/login/",
        method="POST",
        body=body,
    )

    assert_refused(response)


HOSTILE_REQUEST_IDS = [
    b"a" * 129,
    MARK * 2000,
    b"ok\r\nX-Injected: " + MARK,
    b"ok\rX-Injected: " + MARK,
    b"ok\nX-Injected: " + MARK,
    b"\xc3\xa9" + MARK,
    b"\xff\xfe" + MARK,
    b"id with spaces " + MARK,
    b"<script>" + MARK + b"</script>",
    b"ok\x00" + MARK,
    b"ok\r\n " + MARK,  # an obsolete folded continuation line
]


@pytest.mark.parametrize("request_id", HOSTILE_REQUEST_IDS, ids=lambda value: repr(value[:30]))
@pytest.mark.parametrize("target", [LIST, "/api/no-such-thing", "/healthz"])
def test_a_hostile_request_id_is_refused_or_replaced_never_echoed(secure_shop, request_id, target):
    response = send(secure_shop, (b"X-Request-ID", request_id), target=target)

    assert_safe(response)
    assert not response.header("x-injected")
    if response.status < 400:
        (replaced,) = response.header("x-request-id")
        assert replaced.encode() not in request_id or replaced == "ok"


def test_several_request_ids_are_replaced_by_one(secure_shop):
    response = send(secure_shop, (b"X-Request-ID", b"first"), (b"X-Request-ID", b"second"))

    assert response.status == 200, response.raw[:1000]
    (request_id,) = response.header("x-request-id")
    assert REQUEST_ID.match(request_id) and request_id not in {"first", "second"}


def test_a_sane_request_id_is_echoed(secure_shop):
    response = send(secure_shop, (b"X-Request-ID", b"abc-123_4.5:6"))

    assert response.header("x-request-id") == ["abc-123_4.5:6"]
