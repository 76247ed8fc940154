from django.urls import path, re_path

from . import internal_views

urlpatterns = [
    path(
        "internal/catalog/reservations/summary",
        internal_views.ReservationSummaryView.as_view(),
    ),
    re_path(
        r"^internal/catalog/reservations/(?P<key>[A-Za-z0-9_.:-]{1,100})$",
        internal_views.ReservationView.as_view(),
    ),
]
