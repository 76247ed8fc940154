from datetime import date

from rest_framework import serializers

from .cards import is_expired, passes_luhn


class PaymentRequestSerializer(serializers.Serializer):
    card_number = serializers.RegexField(
        r"^[0-9]{12,19}$", error_messages={"invalid": "Card number must be 12 to 19 digits."}
    )
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100)
    cvc = serializers.RegexField(
        r"^[0-9]{3,4}$", error_messages={"invalid": "CVC must be 3 or 4 digits."}
    )

    def validate_card_number(self, value: str) -> str:
        if not passes_luhn(value):
            raise serializers.ValidationError("Card number is invalid.")
        return value

    def validate(self, attrs: dict) -> dict:
        if is_expired(exp_month=attrs["exp_month"], exp_year=attrs["exp_year"], today=date.today()):
            raise serializers.ValidationError({"exp_year": ["Card has expired."]})
        return attrs


class PaymentResultSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    payment_id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()
