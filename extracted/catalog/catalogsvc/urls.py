from django.urls import include, path

from strangler.service.urls import ERROR_HANDLERS, chassis_urlpatterns

from . import reads

urlpatterns = [
    *chassis_urlpatterns(),
    # The catalog domain's routes, its product reads made faster (catalogsvc.reads).
    path("", include(reads.with_faster_product_reads("catalog.urls"))),
    path("", include("catalog.internal_urls")),
]

handler400, handler404, handler500 = ERROR_HANDLERS
