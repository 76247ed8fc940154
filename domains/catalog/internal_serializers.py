from rest_framework import serializers

MAX_UNITS = 1_000_000


class ReservationLinesSerializer(serializers.Serializer):
    """PUT /internal/catalog/reservations/{key}: {"lines": {"<product id>": units, ...}}."""

    lines = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_UNITS), allow_empty=False
    )

    def validate_lines(self, lines: dict) -> dict[int, int]:
        try:
            return {int(product_id): units for product_id, units in lines.items()}
        except ValueError:
            raise serializers.ValidationError("Keys must be product ids.") from None


class PricedLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)


class ReservationSerializer(serializers.Serializer):
    key = serializers.CharField()
    state = serializers.CharField()
    lines = serializers.DictField(child=serializers.IntegerField())
    priced = serializers.DictField(child=PricedLineSerializer())
    created_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)


class ReservationSummarySerializer(serializers.Serializer):
    held = serializers.IntegerField()
    released = serializers.IntegerField()
    units_held = serializers.IntegerField()
    oldest_held_seconds = serializers.FloatField(allow_null=True)
