from rest_framework import serializers


class OrderPaymentSerializer(serializers.Serializer):
    """PUT /internal/orders/{id}/payment: the payment that pays the order, and when."""

    payment_id = serializers.IntegerField(min_value=1)
    paid_at = serializers.DateTimeField()


class OrderPaidSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    status = serializers.CharField()
    payment_id = serializers.IntegerField()
