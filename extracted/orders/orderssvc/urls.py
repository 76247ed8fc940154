from django.urls import include, path

from strangler.service.urls import ERROR_HANDLERS, chassis_urlpatterns

# The cart and the orders only: the catalog and the users are copies here, served by their
# owners; payments stay in the monolith.
urlpatterns = [
    *chassis_urlpatterns(),
    path("", include("orders.urls")),
    path("", include("orders.internal_urls")),
]

handler400, handler404, handler500 = ERROR_HANDLERS
