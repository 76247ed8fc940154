import io

from django.http import HttpResponse
from django.test import override_settings

from strangler.service.body_size import BodySizeLimitMiddleware

middleware = BodySizeLimitMiddleware(lambda request: HttpResponse("passed"))


def _post(rf, length: str):
    request = rf.post("/", data=b"", content_type="application/json")
    request.META["CONTENT_LENGTH"] = length
    request.META["wsgi.input"] = io.BytesIO(b"x" * int(length) if length.isdigit() else b"")
    return middleware(request)


def test_a_body_at_the_limit_passes(rf):
    assert _post(rf, str(1024 * 1024)).content == b"passed"


def test_a_body_over_the_limit_is_413_json_before_the_view_runs(rf):
    response = _post(rf, str(1024 * 1024 + 1))

    assert response.status_code == 413
    assert response.content == b'{"detail":"Request body too large (limit 1024 KiB)."}'


def test_the_limit_comes_from_settings(rf):
    with override_settings(MAX_REQUEST_BODY_BYTES=2048):
        response = _post(rf, "4096")

    assert response.content == b'{"detail":"Request body too large (limit 2 KiB)."}'


def test_a_content_length_that_is_not_a_number_is_400(rf):
    response = _post(rf, "lots")

    assert response.status_code == 400
    assert response.content == b'{"detail":"Invalid Content-Length header."}'


def _chunked(rf, body: bytes):
    request = rf.generic("POST", "/", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(body)
    return BodySizeLimitMiddleware(lambda r: HttpResponse(r.body))(request)


def test_a_chunked_body_reaches_the_view_whole(rf):
    assert _chunked(rf, b'{"email": "a@example.com"}').content == b'{"email": "a@example.com"}'


def test_a_chunked_body_over_the_limit_is_413(rf):
    response = _chunked(rf, b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413


def test_a_refused_body_is_read_off_the_connection_so_the_client_gets_the_413(rf):
    body = io.BytesIO(b"x" * (1024 * 1024 + 10))
    request = rf.post("/", data=b"", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(len(body.getvalue()))
    request.META["wsgi.input"] = body
    assert middleware(request).status_code == 413
    assert body.read() == b""
