from django.urls import path

from . import views

urlpatterns = [
    path(
        "api/products/<id:product_id>/reviews",
        views.ProductReviewsView.as_view(),
        name="product-reviews",
    ),
]
