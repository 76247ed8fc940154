from django.apps import AppConfig

DOMAIN = "orders"


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from strangler.sync import compensations, registry

        from . import stock
        from .models import CartItem, Order, OrderItem

        # A checkout that reserved stock remotely and then failed (or died) gives it back.
        compensations.register(stock.RELEASE, stock.release)

        # Carts and orders, copied to (and, once the orders service owns them, from) that
        # service. An order's lines share its partition (partition key: the order's id), so a
        # copy never holds a line before its order; a user's cart lines share one partition, so
        # they apply in the order they were written. Orders register before their lines: a
        # batch stores parents first.
        registry.register(
            registry.Aggregate(
                name="order",
                domain=DOMAIN,
                model=Order,
                fields=(
                    "user",
                    "status",
                    "total",
                    "created_at",
                    "paid_at",
                    "cancelled_at",
                    "reservation_key",
                    "payment_id",
                ),
            )
        )
        registry.register(
            registry.Aggregate(
                name="order_item",
                domain=DOMAIN,
                model=OrderItem,
                fields=(
                    "order",
                    "product_id",
                    "sku",
                    "name",
                    "unit_price",
                    "quantity",
                    "line_total",
                ),
                partition_by="order",
            )
        )
        registry.register(
            registry.Aggregate(
                name="cart_item",
                domain=DOMAIN,
                model=CartItem,
                fields=("user", "product", "quantity", "added_at"),
                partition_by="user",
            )
        )
