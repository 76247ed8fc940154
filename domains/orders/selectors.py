from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from strangler.sync.readthrough import load_missing

from .models import CartItem, Order, OrderItem


@dataclass(frozen=True)
class CartLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Cart:
    items: list[CartLine]

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.items)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.items), Decimal("0.00"))


def get_cart(*, user: User) -> Cart:
    """The cart at current catalog prices."""
    items = CartItem.objects.filter(user=user).select_related("product").order_by("added_at", "id")
    return Cart(
        items=[
            CartLine(
                product_id=item.product_id,
                sku=item.product.sku,
                name=item.product.name,
                unit_price=item.product.price,
                quantity=item.quantity,
            )
            for item in items
        ]
    )


def _orders_with_items() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id"))
    )


def list_orders(*, user: User) -> QuerySet[Order]:
    return _orders_with_items().filter(user=user).order_by("-created_at", "-id")


def get_order(*, user: User, order_id: int) -> Order | None:
    """The user's order, or None: another user's order does not exist for them."""
    return _orders_with_items().filter(user=user, pk=order_id).first()


def get_order_to_pay(*, user: User, order_id: int) -> Order | None:
    """The user's order as the payments see it (its lines are not needed); on a copy, one placed
    on the owner a moment ago (its event still on the way) is read through from the owner, so
    it can be paid at once."""
    order = Order.objects.filter(user=user, pk=order_id).first()
    if order is None:
        order = load_missing("order", order_id)
    return order if order is not None and order.user_id == user.pk else None
