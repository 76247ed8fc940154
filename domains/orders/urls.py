from django.urls import path

from . import views

urlpatterns = [
    path("api/cart", views.CartView.as_view(), name="cart"),
    path("api/cart/items/<id:product_id>", views.CartItemView.as_view(), name="cart-item"),
    path("api/orders", views.OrderListView.as_view(), name="order-list"),
    path("api/orders/<id:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("api/orders/<id:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
]
