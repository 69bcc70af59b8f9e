from rest_framework import serializers

from desideliver.catalog.models import Category, Product
from desideliver.media.fields import StoredFileUrlField


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    image = StoredFileUrlField()

    class Meta:
        model = Product
        fields = ["id", "name", "description", "price", "stock", "category", "image", "created_at", "updated_at"]
        read_only_fields = fields
