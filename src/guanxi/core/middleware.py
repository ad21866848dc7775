"""Request guards every app relies on (C8): API body limit, no-store caching, security headers.

- An API request larger than DATA_UPLOAD_MAX_MEMORY_SIZE gets a JSON 413 before any view runs
  (Django's own refusal is an HTML 400 page that a script cannot read).
- Pages and API answers may carry personal data: they are `Cache-Control: no-store`, so no
  shared proxy or the browser's back/forward cache keeps a copy after logout. Static files
  (served by WhiteNoise before this middleware) keep their long cache lifetimes.
- A Content-Security-Policy that allows scripts from this site only: the app has no inline
  script or handler (they live in static/js/), so an injected `<script>` does not run.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _

API_PREFIX = "/api/"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Bootstrap components and htmx's indicator set style attributes at run time.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The API's interactive docs page (Ninja's Swagger UI) boots with an inline script.
DOCS_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
)


def body_too_large_response() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {
            "code": "body_too_large",
            "field": None,
            "message": _("The request body is too large (at most %(kb)s KB).")
            % {"kb": limit // 1024},
        },
        status=413,
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            length = request.META.get("CONTENT_LENGTH") or "0"
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length.isdigit() and int(length) > limit:
                return self._headers(request, body_too_large_response())
        return self._headers(request, self.get_response(request))

    def process_exception(self, request: HttpRequest, exc: Exception):
        if isinstance(exc, RequestDataTooBig) and request.path.startswith(API_PREFIX):
            return body_too_large_response()
        return None

    def _headers(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path.startswith(settings.STATIC_URL):
            if "Cache-Control" not in response or request.path.startswith(API_PREFIX):
                add_never_cache_headers(response)
                patch_cache_control(response, no_store=True, private=True)
            docs = request.path.startswith(API_PREFIX) and request.path.rstrip("/").endswith(
                "/docs"
            )
            response.headers.setdefault(
                "Content-Security-Policy", DOCS_POLICY if docs else CONTENT_SECURITY_POLICY
            )
        return response
