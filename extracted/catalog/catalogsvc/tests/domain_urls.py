"""The catalog's routes as the monolith serves them: the domain's views, nothing of the
service's own read path. The reference the service's answers are compared with."""

from django.urls import include, path

from strangler.service.urls import ERROR_HANDLERS, chassis_urlpatterns

urlpatterns = [
    *chassis_urlpatterns(),
    path("", include("catalog.urls")),
    path("", include("catalog.internal_urls")),
]

handler400, handler404, handler500 = ERROR_HANDLERS
