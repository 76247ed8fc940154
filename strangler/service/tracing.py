"""W3C trace context on every backend: the proxy sends each request a `traceparent` (the
client's, or one it made); the backend serves it inside that trace, passes it on to every
call it makes to another backend (strangler.service.http) and writes its trace id on every
log line.

Only OpenTelemetry's API runs by default: it carries the context and records nothing. When
OTEL_EXPORTER_OTLP_ENDPOINT is set, `configure()` installs the SDK with an OTLP/HTTP exporter
(the standard OTEL_* variables configure it; the service name defaults to the backend's),
and each request becomes a server span exported in batches.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, MutableMapping

from django.http import HttpRequest, HttpResponse
from opentelemetry import propagate, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
tracer = trace.get_tracer("strangler")


def exporting() -> bool:
    return bool(os.environ.get(ENDPOINT_ENV))


def configure(*, service_name: str) -> None:
    """The SDK and its exporter, only when an endpoint is configured (nothing otherwise)."""
    if not exporting():
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def _new_trace() -> NonRecordingSpan:
    """A trace of its own for a request that came without one (not through the proxy)."""
    return NonRecordingSpan(
        SpanContext(
            trace_id=random.getrandbits(128) or 1,
            span_id=random.getrandbits(64) or 1,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
    )


class TraceContextMiddleware:
    """Serves the request inside the trace its traceparent names (or a new one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parent = propagate.extract(request.headers)
        if exporting():
            name = f"{request.method} {request.path}"
            with tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER) as span:
                response = self.get_response(request)
                span.set_attribute("http.response.status_code", response.status_code)
                return response
        span = trace.get_current_span(parent)
        if not span.get_span_context().is_valid:
            span = _new_trace()
        with trace.use_span(span, end_on_exit=False):
            return self.get_response(request)


def inject(headers: MutableMapping[str, str]) -> None:
    """Adds the current trace's traceparent to an outgoing call's headers."""
    propagate.inject(headers)


class TraceIdFilter(logging.Filter):
    """Puts the current trace and span ids (hex, as in traceparent) on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = trace.format_trace_id(context.trace_id)
            record.span_id = trace.format_span_id(context.span_id)
        else:
            record.trace_id = record.span_id = None
        return True
