from rest_framework import serializers

from .models import Order, OrderItem

MAX_CART_QUANTITY = 100


class CartLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_CART_QUANTITY)


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "status", "items", "total", "created_at", "paid_at"]
