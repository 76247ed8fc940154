from rest_framework import serializers

from .models import Review


class ReviewAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReviewSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    user = ReviewAuthorSerializer(read_only=True)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)

    class Meta:
        model = Review
        fields = ["id", "product_id", "user", "rating", "title", "body", "created_at"]
        read_only_fields = ["id", "created_at"]
