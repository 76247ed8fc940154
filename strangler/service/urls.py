"""The chassis' urlpatterns and error handlers, as every backend serves them (the settings
side is strangler.service.backend).

    # urls.py of a backend
    urlpatterns = [*chassis_urlpatterns(), path("", include("accounts.urls"))]
    handler400, handler404, handler500 = ERROR_HANDLERS
"""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, register_converter
from drf_spectacular.views import SpectacularAPIView

from .converters import ResourceIdConverter

# `<id:name>`: the ids of the shop's resources, the same on every backend that serves them.
register_converter(ResourceIdConverter, "id")

ERROR_HANDLERS = (
    "strangler.service.errors.json_bad_request",
    "strangler.service.errors.json_not_found",
    "strangler.service.errors.json_server_error",
)


def chassis_urlpatterns() -> list[URLPattern | URLResolver]:
    """Health, the admin, the API schema and the internal sync API, as every backend serves
    them."""
    return [
        path("admin/", admin.site.urls),
        path("api/schema", SpectacularAPIView.as_view(), name="schema"),
        path("", include("strangler.urls")),
    ]
