from typing import Any

from django.http import QueryDict
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page-number envelope; clients may ask for up to 100 rows with `page_size`.

    `next` and `previous` are relative (`/api/products/?page=2`): built from the request's path
    and query parameters only, never from its Host header, so a page cached for everyone can't
    carry a link to a host an attacker chose.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        for name, page, end in (("next", 3, "last"), ("previous", 1, "first")):
            envelope["properties"][name].update(
                format="uri-reference",
                example=f"/api/products/?page={page}",
                description=f"A path relative to the request's URL; null on the {end} page.",
            )
        return envelope

    def get_next_link(self) -> str | None:
        assert self.page is not None  # links are built after paginate_queryset
        if not self.page.has_next():
            return None
        return self._link(self.page.next_page_number())

    def get_previous_link(self) -> str | None:
        assert self.page is not None
        if not self.page.has_previous():
            return None
        return self._link(self.page.previous_page_number())

    def _link(self, page_number: int) -> str:
        assert self.request is not None
        query: QueryDict = self.request.query_params.copy()
        if page_number == 1:
            query.pop(self.page_query_param, None)
        else:
            query[self.page_query_param] = str(page_number)
        encoded = query.urlencode()
        return f"{self.request.path}?{encoded}" if encoded else self.request.path
