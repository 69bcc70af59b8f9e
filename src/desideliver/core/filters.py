from collections.abc import Sequence
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class StableOrderingFilter(filters.OrderingFilter):
    """DRF's `?ordering=`, strict about its terms and with the primary key as the last sort key.

    DRF silently ignores unknown fields: here they are a 400 naming the allowed ones. Ordering by
    a column with equal values (`ordering=price`) is otherwise no order at all for those rows:
    PostgreSQL may return them differently for each LIMIT/OFFSET, so paging shows some rows twice
    and others never.
    """

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[Any]:
        self.checked_terms(request, queryset, view)
        ordering: Sequence[Any] | None = super().get_ordering(request, queryset, view)
        if ordering is None:
            ordering = [*queryset.query.order_by] or [*queryset.model._meta.ordering]
        return with_tie_breaker([*ordering], queryset.model)

    def checked_terms(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        """The requested terms (the parameter's last value, as DRF reads it); unknown ones are a 400."""
        requested = [term.strip() for term in request.query_params.get(self.ordering_param, "").split(",")]
        requested = [term for term in requested if term]
        allowed = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in requested if term.removeprefix("-") not in allowed]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Unknown field {', '.join(unknown)}: order by {', '.join(allowed)} "
                        "(prefix - for descending, comma-separated for several)."
                    ]
                }
            )
        return requested


def with_tie_breaker(ordering: list[Any], model: type[Model]) -> list[Any]:
    pk_names = {"pk", model._meta.pk.name, model._meta.pk.attname}
    if any(isinstance(term, str) and term.lstrip("-") in pk_names for term in ordering):
        return ordering
    return [*ordering, "pk"]
