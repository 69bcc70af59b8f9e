from collections.abc import Sequence
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import filters
from rest_framework.request import Request


class StableOrderingFilter(filters.OrderingFilter):
    """DRF's `?ordering=`, with the primary key as the last sort key.

    Ordering by a column with equal values (`ordering=price`) is otherwise no order at all for
    those rows: PostgreSQL may return them differently for each LIMIT/OFFSET, so paging shows
    some rows twice and others never.
    """

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[Any]:
        ordering: Sequence[Any] | None = super().get_ordering(request, queryset, view)
        if ordering is None:
            ordering = [*queryset.query.order_by] or [*queryset.model._meta.ordering]
        return with_tie_breaker([*ordering], queryset.model)


def with_tie_breaker(ordering: list[Any], model: type[Model]) -> list[Any]:
    pk_names = {"pk", model._meta.pk.name, model._meta.pk.attname}
    if any(isinstance(term, str) and term.lstrip("-") in pk_names for term in ordering):
        return ordering
    return [*ordering, "pk"]
