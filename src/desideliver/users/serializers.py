from rest_framework import serializers

from desideliver.users.models import User


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="Bearer token for the API.")
    refresh = serializers.CharField(read_only=True, help_text="Exchange at /api/auth/token/refresh/.")


class RefreshedTokensSerializer(TokenPairSerializer):
    refresh = serializers.CharField(read_only=True, help_text="The rotated refresh token; the old one is revoked.")
