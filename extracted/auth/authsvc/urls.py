from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from strangler.service import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("", include("users.urls")),
    path("", include("strangler.sync.internal_urls")),
]

handler400 = "strangler.service.errors.json_bad_request"
handler404 = "strangler.service.errors.json_not_found"
handler500 = "strangler.service.errors.json_server_error"
