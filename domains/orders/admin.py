from django.contrib import admin

from strangler.sync.admin import SyncedModelAdmin

from .models import Order, OrderItem


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    # Lines are frozen at checkout: shown, never added or removed.
    can_delete = False
    readonly_fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


# On a copy of the orders a change is saved by the owner; deleting stays with nobody (an order
# is history, and a bulk delete would skip the sync).
@admin.register(Order)
class OrderAdmin(SyncedModelAdmin):
    list_display = ["id", "user", "status", "total", "created_at", "paid_at"]
    list_filter = ["status"]
    list_select_related = ["user"]
    inlines = [OrderItemInline]
