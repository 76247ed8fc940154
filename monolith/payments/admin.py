from django.contrib import admin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "amount", "gateway", "gateway_reference", "created_at"]
    list_select_related = ["order"]
