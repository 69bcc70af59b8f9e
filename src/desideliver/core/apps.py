from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class CoreConfig(AppConfig):
    name = "desideliver.core"
    label = "core"

    def ready(self) -> None:
        from desideliver.core.migration_timeouts import relax_for_migrations, restore_after_migrations

        pre_migrate.connect(relax_for_migrations, dispatch_uid="desideliver-relax-for-migrations")
        post_migrate.connect(restore_after_migrations, dispatch_uid="desideliver-restore-after-migrations")
