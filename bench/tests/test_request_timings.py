"""Timings read from the proxy's and the backends' access logs, matched by request id."""

import json
from pathlib import Path

from bench.request_timings import (
    Request,
    Timed,
    backend_timings,
    by_request,
    proxy_timings,
    timings,
)

CHECKOUT = Request("POST", r"/api/orders")
RESERVATION = Request("PUT", r"/internal/catalog/reservations/[^/]+")


def proxy_line(listener: str, request_id: str, method: str, uri: str, seconds: float) -> str:
    """A line as strangler/proxy's log_format writes it."""
    return json.dumps(
        {
            "time": "2026-01-01T12:00:00+00:00",
            "request_id": request_id,
            "listener": listener,
            "step": "5-orders",
            "route": "orders",
            "backend": "orders",
            "split": "",
            "method": method,
            "uri": uri,
            "status": 201,
            "upstream_status": "201",
            "upstream": "127.0.0.1:8003",
            "request_time": seconds,
            "upstream_time": str(seconds),
            "bytes_sent": 300,
            "client": "127.0.0.1",
        }
    )


def backend_line(request_id: str | None, method: str, path: str, ms: float) -> str:
    """A line as strangler.service's JSON logging writes an access log record."""
    return json.dumps(
        {
            "time": "2026-01-01 12:00:00,000",
            "level": "INFO",
            "logger": "strangler.access",
            "message": "request",
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": 200,
            "duration_ms": ms,
        }
    )


def test_a_listener_s_requests_are_read_from_the_proxy_log_in_milliseconds(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text(
        "\n".join(
            [
                proxy_line("public", "ob-1-c0-0", "POST", "/api/orders", 0.052),
                proxy_line(
                    "internal", "ob-1-c0-0", "PUT", "/internal/catalog/reservations/k1", 0.011
                ),
                proxy_line("public", "ob-1-c0-0-cart", "PUT", "/api/cart/items/3?x=1", 0.02),
                '{"time":"2026-01-01T12:00:01+00:00","listener":"public","uri":"/cut',
            ]
        )
        + "\n"
    )

    public = proxy_timings(log, listener="public")
    internal = proxy_timings(log, listener="internal")

    assert [(t.method, t.path, t.ms) for t in public] == [
        ("POST", "/api/orders", 52.0),
        ("PUT", "/api/cart/items/3", 20.0),
    ]
    assert timings(internal, request=RESERVATION, id_prefix="ob-1-") == [11.0]


def test_only_access_lines_with_a_request_id_are_read_from_a_backend_log(tmp_path: Path):
    log = tmp_path / "orders.log"
    log.write_text(
        "\n".join(
            [
                "$ gunicorn orderssvc.wsgi:application",
                "[2026-01-01 12:00:00 +0000] [7] [INFO] Booting worker with pid: 7",
                backend_line("ob-1-c0-0", "POST", "/api/orders", 31.5),
                backend_line(None, "GET", "/readyz", 2.0),
                json.dumps({"logger": "celery", "message": "ready", "request_id": "ob-1-c0-0"}),
                backend_line("ob-2-c0-0", "POST", "/api/orders", 45.0),
            ]
        )
        + "\n"
    )

    logged = backend_timings(log)

    assert timings(logged, request=CHECKOUT, id_prefix="ob-1-") == [31.5]
    assert timings(logged, request=CHECKOUT, id_prefix="ob-") == [31.5, 45.0]


def test_a_log_not_written_yet_has_no_timings(tmp_path: Path):
    assert proxy_timings(tmp_path / "access.log", listener="public") == []
    assert backend_timings(tmp_path / "orders.log") == []


def test_a_request_matches_its_method_and_its_whole_path():
    assert CHECKOUT.matches(Timed("id", "POST", "/api/orders", 1.0))
    assert not CHECKOUT.matches(Timed("id", "POST", "/api/orders/7/pay", 1.0))
    assert not CHECKOUT.matches(Timed("id", "GET", "/api/orders", 1.0))
    assert not RESERVATION.matches(Timed("id", "PUT", "/internal/catalog/reservations/", 1.0))


def test_a_request_s_retries_add_up_under_its_id():
    logged = [
        Timed("ob-1-c0-0", "PUT", "/internal/catalog/reservations/k1", 5.0),
        Timed("ob-1-c0-0", "PUT", "/internal/catalog/reservations/k1", 7.0),
        Timed("ob-1-c0-1", "PUT", "/internal/catalog/reservations/k2", 4.0),
        Timed("ob-2-c0-0", "PUT", "/internal/catalog/reservations/k3", 9.0),
    ]

    assert by_request(logged, request=RESERVATION, id_prefix="ob-1-") == {
        "ob-1-c0-0": 12.0,
        "ob-1-c0-1": 4.0,
    }
    assert timings(logged, request=RESERVATION, id_prefix="ob-1-") == [5.0, 7.0, 4.0]
