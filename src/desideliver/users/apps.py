from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "desideliver.users"
    label = "users"
