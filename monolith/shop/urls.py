from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView

from strangler.service import health
from strangler.service.converters import ResourceIdConverter

register_converter(ResourceIdConverter, "id")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("reviews.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("strangler.sync.internal_urls")),
]

handler400 = "strangler.service.errors.json_bad_request"
handler404 = "strangler.service.errors.json_not_found"
handler500 = "strangler.service.errors.json_server_error"
