"""What the framework serves on every backend: liveness, readiness, Prometheus metrics and the
internal sync API.

# urls.py of a project adopting the framework
urlpatterns = [..., path("", include("strangler.urls"))]
"""

from django.urls import include, path

from strangler.service import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", include("strangler.sync.internal_urls")),
]
