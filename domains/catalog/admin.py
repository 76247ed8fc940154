from django.contrib import admin

from .models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["id", "slug", "name"]
    search_fields = ["slug", "name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "sku", "name", "price", "stock", "category"]
    list_filter = ["category"]
    list_select_related = ["category"]
    search_fields = ["sku", "name"]
