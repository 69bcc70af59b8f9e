"""`manage clear_cache`, which `make restore` runs: pg_restore fires none of the signals that
invalidate cached answers, so the restored catalogue is served only once the cache is empty."""

import port_for
import pytest
from django.core.management import CommandError, call_command

from desideliver.catalog.models import Product
from tests.factories import ProductFactory


@pytest.mark.django_db
def test_clear_cache_makes_the_api_read_what_the_database_holds(api):
    product = ProductFactory(stock=5)
    assert api.get(f"/api/products/{product.pk}/").json()["stock"] == 5  # cached now
    Product.objects.filter(pk=product.pk).update(stock=9)  # like pg_restore: no signal fires
    assert api.get(f"/api/products/{product.pk}/").json()["stock"] == 5, "served from the cache"
    call_command("clear_cache")
    assert api.get(f"/api/products/{product.pk}/").json()["stock"] == 9


def test_clear_cache_fails_loudly_when_redis_is_unreachable(settings):
    unreachable = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port_for.select_random()}/0"}
    settings.CACHES = {"default": unreachable}
    with pytest.raises(CommandError, match="cache 'default' not cleared: Redis"):
        call_command("clear_cache")
    from django.core.cache import cache

    assert cache.get("anything") is None  # requests still carry on without Redis (IGNORE_EXCEPTIONS)
