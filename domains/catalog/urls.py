from django.urls import path

from . import views

urlpatterns = [
    path("api/categories", views.CategoryListView.as_view(), name="category-list"),
    path("api/products", views.ProductListView.as_view(), name="product-list"),
    path("api/products/<id:product_id>", views.ProductDetailView.as_view(), name="product-detail"),
]
