import importlib.util

from django.apps import AppConfig


class StranglerConfig(AppConfig):
    name = "strangler"
    label = "strangler"
    verbose_name = "Strangler"

    def ready(self) -> None:
        # The consumer's Celery task: autodiscovery only finds <app>.tasks, and a worker that
        # does not know a task discards its messages.
        from .sync import tasks  # noqa: F401

        if importlib.util.find_spec("drf_spectacular"):
            from .service import schema  # noqa: F401  describes bearer tokens in OpenAPI
