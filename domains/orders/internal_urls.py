from django.urls import path

from . import internal_views

urlpatterns = [
    path("internal/orders/<int:order_id>/payment", internal_views.OrderPaymentView.as_view()),
]
