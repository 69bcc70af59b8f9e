"""`?ordering=` that refuses unknown fields (DRF's filter silently ignores them) with a 400 naming the allowed ones."""

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
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
        return super().get_ordering(request, queryset, view)
