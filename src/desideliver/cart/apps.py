from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "desideliver.cart"
    label = "cart"
