import importlib.util

from django.apps import AppConfig


class StranglerConfig(AppConfig):
    name = "strangler"
    label = "strangler"
    verbose_name = "Strangler"

    def ready(self) -> None:
        # The consumer's Celery task: autodiscovery only finds <app>.tasks, and a worker that
        # does not know a task discards its messages.
        # Spans exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set (strangler.service.tracing).
        from django.conf import settings

        from .service import tracing
        from .sync import tasks  # noqa: F401

        tracing.configure(service_name=getattr(settings, "STRANGLER_BACKEND", "strangler"))

        if importlib.util.find_spec("drf_spectacular"):
            from .service import schema  # noqa: F401  describes bearer tokens in OpenAPI
