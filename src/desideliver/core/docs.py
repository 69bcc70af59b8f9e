"""The API documentation pages, from our own static files (drf-spectacular-sidecar), under the CSP.

Swagger UI's start-up script is a separate request (the split view), so no inline script runs.
Redoc renders with styled-components, which injects <style> elements, and searches in a worker
it starts from a blob: URL: only its page relaxes the policy, and only for those two.
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.text import format_lazy
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "docs/swagger_ui.html"
    # The schema as JSON: the page's own link to it then shows in a browser (YAML downloads).
    url = format_lazy("{}?format=json", reverse_lazy("schema"))  # type: ignore[assignment]  # lazy: urls load later


@method_decorator(csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}), name="dispatch")
class RedocDocsView(SpectacularRedocView):
    template_name = "docs/redoc.html"
