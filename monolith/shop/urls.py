from django.urls import include, path

from strangler.service.urls import ERROR_HANDLERS, chassis_urlpatterns

urlpatterns = [
    *chassis_urlpatterns(),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("catalog.internal_urls")),
    path("", include("reviews.urls")),
    path("", include("orders.urls")),
    path("", include("orders.internal_urls")),
    path("", include("payments.urls")),
]

handler400, handler404, handler500 = ERROR_HANDLERS
