from strangler.contract.normalise import ID, TIMESTAMP, TOKEN, Normaliser, strip_url_host


def test_timestamps_tokens_and_hosts_are_replaced_but_values_are_kept():
    body = {
        "access": "eyJ.a.b",
        "refresh": "eyJ.c.d",
        "token_type": "Bearer",
        "expires_in": 900,
        "next": "http://127.0.0.1:8080/api/products?page_size=2&page=2",
        "previous": None,
        "results": [{"id": 7, "price": "19.99", "updated_at": "2024-01-02T03:04:05.123456Z"}],
    }

    assert Normaliser().body(body) == {
        "access": TOKEN,
        "refresh": TOKEN,
        "token_type": "Bearer",
        "expires_in": 900,
        "next": "/api/products?page=2&page_size=2",
        "previous": None,
        "results": [{"id": 7, "price": "19.99", "updated_at": TIMESTAMP}],
    }


def test_a_null_timestamp_stays_null_because_paid_or_not_is_meaningful():
    assert Normaliser().body({"paid_at": None}) == {"paid_at": None}


def test_timestamps_under_unknown_keys_are_recognised_by_shape():
    assert Normaliser().body({"shipped": "2024-01-02T03:04:05+00:00"}) == {"shipped": TIMESTAMP}


def test_ids_are_compared_unless_masking_is_asked_for():
    body = {"id": 3, "product_id": 9, "user": {"id": 4, "name": "Ann"}}

    assert Normaliser().body(body) == body
    assert Normaliser(mask_ids=True).body(body) == {
        "id": ID,
        "product_id": ID,
        "user": {"id": ID, "name": "Ann"},
    }


def test_only_compared_headers_are_kept_with_lowercase_names():
    headers = [
        ("Content-Type", "application/json"),
        ("X-Request-ID", "abc"),
        ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
        ("WWW-Authenticate", 'Bearer  realm="api"'),
    ]

    assert Normaliser().headers(headers) == {
        "content-type": "application/json",
        "www-authenticate": 'Bearer realm="api"',
    }


def test_response_decodes_json_and_keeps_other_bodies_as_text():
    normaliser = Normaliser()

    json_response = normaliser.response(status=200, headers={}, content=b'{"a": 1}')
    text_response = normaliser.response(status=502, headers={}, content=b"<html>bad</html>")
    empty_response = normaliser.response(status=204, headers={}, content=b"")

    assert json_response.body == {"a": 1}
    assert text_response.body == "<html>bad</html>"
    assert empty_response.body is None


def test_strip_url_host_keeps_path_and_sorts_the_query():
    assert strip_url_host("https://shop.example:8443/api/x?b=2&a=1") == "/api/x?a=1&b=2"
