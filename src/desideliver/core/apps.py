from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "desideliver.core"
    label = "core"
