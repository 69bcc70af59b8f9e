from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "desideliver.orders"
    label = "orders"
