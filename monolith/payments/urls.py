from django.urls import path

from . import views

urlpatterns = [
    path("api/orders/<id:order_id>/pay", views.PayOrderView.as_view(), name="order-pay"),
]
