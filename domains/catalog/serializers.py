from decimal import Decimal

from rest_framework import serializers

from .models import Category, Product
from .selectors import ORDERINGS

MAX_STOCK = 1_000_000_000


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]


class CategorySlugField(serializers.SlugRelatedField):
    """A category by slug; a slug no category can have is refused before any lookup (a NUL
    byte would otherwise reach PostgreSQL, which rejects it with an error, not a miss)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySlugField(slug_field="slug", queryset=Category.objects.all())
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK)
    description = serializers.CharField(
        max_length=10_000, allow_blank=True, required=False, default=""
    )

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description", "price", "category", "stock", "updated_at"]
        read_only_fields = ["id", "updated_at"]


class ProductFilterSerializer(serializers.Serializer):
    category = serializers.SlugField(max_length=64, required=False)
    q = serializers.CharField(max_length=200, required=False, trim_whitespace=True)
    min_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    max_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="id")
