from rest_framework import serializers

from .models import Order

MAX_CART_QUANTITY = 100


class LineSerializer(serializers.Serializer):
    """A cart line or an order line: the same shape, priced now or frozen at checkout."""

    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartSerializer(serializers.Serializer):
    items = LineSerializer(many=True)
    item_count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_CART_QUANTITY)


class OrderSerializer(serializers.ModelSerializer):
    items = LineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "status", "items", "total", "created_at", "paid_at"]
