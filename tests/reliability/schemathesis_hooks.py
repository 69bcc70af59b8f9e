"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py).

gunicorn refuses a request line over 4094 bytes with 414 before the application sees it (its
`limit_request_line`, a transport limit like a proxy's, tested in test_hostile_input.py). Generated
queries are kept well under it so the run tests the application, not the HTTP server's limit.
"""

from typing import Any
from urllib.parse import quote, urlencode

import schemathesis

MAX_QUERY_BYTES = 2048


@schemathesis.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    return not query or len(urlencode(query, doseq=True, quote_via=quote)) <= MAX_QUERY_BYTES
