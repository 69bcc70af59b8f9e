"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py).

gunicorn refuses a request line over 4094 bytes with 414 before the application sees it (its
`limit_request_line`, a transport limit like a proxy's, tested in test_hostile_input.py). Generated
queries are kept well under it so the run tests the application, not the HTTP server's limit.
"""

import os
import random
from typing import Any
from urllib.parse import quote, urlencode

import schemathesis

MAX_QUERY_BYTES = 2048


@schemathesis.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    return not query or len(urlencode(query, doseq=True, quote_via=quote)) <= MAX_QUERY_BYTES


# Ids of objects the bearer token's user owns (set by the authenticated run): half of the generated
# path ids are replaced by them, so the object routes answer 200/204/409, not only 404.
REAL_IDS = {
    "item_id": os.environ.get("RELIABILITY_CART_ITEM_ID"),
    "id": os.environ.get("RELIABILITY_ORDER_ID"),
}
REAL_TICKET_ID = os.environ.get("RELIABILITY_TICKET_ID")  # `{id}` under /api/tickets/ is a ticket's


@schemathesis.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    if not path_parameters:
        return path_parameters
    is_ticket = context.operation is not None and context.operation.path.startswith("/api/tickets/")
    for name, value in {**REAL_IDS, **({"id": REAL_TICKET_ID} if is_ticket else {})}.items():
        if value and name in path_parameters and random.random() < 0.5:
            path_parameters[name] = int(value)
    return path_parameters
