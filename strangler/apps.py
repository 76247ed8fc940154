import importlib.util

from django.apps import AppConfig


class StranglerConfig(AppConfig):
    name = "strangler"
    label = "strangler"
    verbose_name = "Strangler"

    def ready(self) -> None:
        if importlib.util.find_spec("drf_spectacular"):
            from .service import schema  # noqa: F401  describes bearer tokens in OpenAPI
