"""Calls between backends: timeouts always, retries for idempotent requests only, a circuit
breaker per target, and the current request id and trace context (traceparent) passed on."""

import logging
import os
import threading
import time

import httpx
import pybreaker

from . import tracing
from .request_id import REQUEST_ID_HEADER, current_request_id

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
logger = logging.getLogger(__name__)


class ServiceUnavailable(httpx.TransportError):
    """The target's circuit is open: fail fast instead of piling up on a dead backend."""


class ResilientTransport(httpx.BaseTransport):
    def __init__(
        self,
        *,
        breaker: pybreaker.CircuitBreaker,
        retries: int,
        backoff_seconds: float,
        transport: httpx.BaseTransport | None = None,
        shared: bool = False,
    ) -> None:
        self.breaker = breaker
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.transport = transport or httpx.HTTPTransport()
        # A shared pool outlives the client: closing the client leaves it to the next one.
        self.shared = shared

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        response = self.transport.handle_request(request)
        if response.status_code in RETRYABLE_STATUSES:
            response.read()
            raise _RetryableStatus(response)
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request_id = current_request_id.get()
        if request_id and REQUEST_ID_HEADER not in request.headers:
            request.headers[REQUEST_ID_HEADER] = request_id
        tracing.inject(request.headers)
        attempts = 1 + (self.retries if request.method in IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            try:
                return self.breaker.call(self._send_once, request)
            except pybreaker.CircuitBreakerError as exc:
                raise ServiceUnavailable(f"circuit open for {request.url.host}") from exc
            except _RetryableStatus as retryable:
                if attempt == attempts:
                    return retryable.response
            except httpx.TransportError:
                if attempt == attempts:
                    raise
            logger.info("retrying %s %s (attempt %d)", request.method, request.url, attempt + 1)
            time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if not self.shared:
            self.transport.close()


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


_breakers: dict[str, pybreaker.CircuitBreaker] = {}
# One connection pool per target and process, shared by the clients made for one call each: they
# reuse kept-alive connections, and the TLS context (httpx builds one per transport, loading the
# CA bundle, even for http://: about 48 ms of a core) is built once, not on every call.
_pools: dict[str, httpx.HTTPTransport] = {}
_pools_lock = threading.Lock()
# A forked child (a gunicorn or Celery worker) must not share its parent's sockets.
os.register_at_fork(after_in_child=_pools.clear)


def _pool(base_url: str) -> httpx.HTTPTransport:
    with _pools_lock:
        if base_url not in _pools:
            _pools[base_url] = httpx.HTTPTransport()
        return _pools[base_url]


def service_client(
    base_url: str,
    *,
    timeout: float = 5.0,
    connect_timeout: float = 1.0,
    retries: int = 2,
    backoff_seconds: float = 0.1,
    failures_to_open: int = 5,
    reset_seconds: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    target: str | None = None,
) -> httpx.Client:
    """An httpx client for another backend; one breaker per target (its base URL unless named:
    the domains behind one proxy listener fail apart), shared by its clients."""
    breaker = _breakers.setdefault(
        target or base_url,
        pybreaker.CircuitBreaker(
            fail_max=failures_to_open,
            reset_timeout=reset_seconds,
            exclude=[lambda exc: isinstance(exc, httpx.HTTPStatusError)],
        ),
    )
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        transport=ResilientTransport(
            breaker=breaker,
            retries=retries,
            backoff_seconds=backoff_seconds,
            transport=transport or _pool(base_url),
            shared=transport is None,
        ),
    )
