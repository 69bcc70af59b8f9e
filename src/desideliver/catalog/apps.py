from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "desideliver.catalog"
    label = "catalog"

    def ready(self) -> None:
        from desideliver.catalog import signals  # noqa: F401
