from django.apps import AppConfig


class ThrottlingConfig(AppConfig):
    name = "desideliver.throttling"
    label = "throttling"
