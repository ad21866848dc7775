"""Request guards every app relies on (C8): API body limit, no-store caching, security headers.

- An API request larger than DATA_UPLOAD_MAX_MEMORY_SIZE gets a JSON 413 before any view runs
  (Django's own refusal is an HTML 400 page that a script cannot read).
- Pages and API answers may carry personal data: they are `Cache-Control: no-store`, so no
  shared proxy or the browser's back/forward cache keeps a copy after logout. Static files
  (served by WhiteNoise before this middleware) keep their long cache lifetimes.
- A Content-Security-Policy that allows scripts from this site only: the app has no inline
  script or handler (they live in static/js/), so an injected `<script>` does not run.
"""

import hashlib
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _

from .errors import RETRY_AFTER_SECONDS, DomainError, Forbidden, NotFound, database_busy
from .models import IdempotencyKey

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
        # The public contact form's proof-of-work captcha (ALTCHA) solves in Web Workers it
        # starts from a blob: URL; a worker has no access to the page.
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A page made to be embedded in other sites (the lead form, @xframe_options_exempt) may be
# framed by any page.
EMBEDDABLE_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
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
            if docs:
                policy = DOCS_POLICY
            elif getattr(response, "xframe_options_exempt", False):
                policy = EMBEDDABLE_POLICY
            else:
                policy = CONTENT_SECURITY_POLICY
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


FORM_TOKEN_FIELD = "once_token"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 200
# A repeat that arrives while the first copy still runs waits this long for its answer.
IN_PROGRESS_WAIT_SECONDS = 15.0
# Answers that are not kept: the caller may retry the same key and be served afresh.
NOT_KEPT = frozenset({401, 403, 408, 429})


class IdempotencyMiddleware:
    """A write runs once per key (C8, issue #12 item 3).

    API: a POST/PUT/PATCH/DELETE with an `Idempotency-Key` header. Web: a form posted with
    the `once_token` field of `{% once_token %}`. The first request inserts the key (a
    unique index decides between simultaneous copies) and keeps its answer; every repeat
    gets that answer (header `Idempotent-Replayed: true`) without running the view again.
    An API key reused with a different body is refused (422 `idempotency_key_reused`).
    Server errors and refusals of authentication are not kept, so the caller may retry.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in WRITE_METHODS:
            return self.get_response(request)
        api = request.path.startswith(API_PREFIX)
        try:
            if api:
                key = request.headers.get("Idempotency-Key", "").strip()
            else:
                content_type = request.content_type or ""
                form = content_type.startswith("application/x-www-form-urlencoded")
                key = request.POST.get(FORM_TOKEN_FIELD, "").strip() if form else ""
        except RequestDataTooBig:
            return self.get_response(request)
        owner = self._owner(request, api)
        if not key or owner is None:
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return _error(
                422, "invalid", _("The Idempotency-Key is too long."), field="Idempotency-Key"
            )
        fingerprint = self._fingerprint(request, api)

        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    owner=owner, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            return self._repeat(owner, key, fingerprint, api)
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.streaming or response.status_code >= 500 or (response.status_code in NOT_KEPT):
            record.delete()
            return response
        IdempotencyKey.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            location=response.get("Location", ""),
            body=response.content,
        )
        return response

    @staticmethod
    def _owner(request: HttpRequest, api: bool) -> str | None:
        header = request.headers.get("Authorization", "")
        if api and header:
            return "token:" + hashlib.sha256(header.encode()).hexdigest()[:40]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return None

    @staticmethod
    def _fingerprint(request: HttpRequest, api: bool) -> str:
        digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
        if api:
            digest.update(request.body)
        return digest.hexdigest()

    def _repeat(self, owner: str, key: str, fingerprint: str, api: bool) -> HttpResponse:
        deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
        while True:
            record = IdempotencyKey.objects.filter(owner=owner, key=key).first()
            if record is not None and api and record.fingerprint != fingerprint:
                return _error(
                    422,
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used for a different request."),
                    field="Idempotency-Key",
                )
            if record is not None and record.status_code is not None:
                response = HttpResponse(
                    bytes(record.body),
                    status=record.status_code,
                    content_type=record.content_type or None,
                )
                if record.location:
                    response["Location"] = record.location
                response["Idempotent-Replayed"] = "true"
                return response
            if time.monotonic() > deadline:
                return _error(
                    409,
                    "idempotency_in_progress",
                    _("The same request is still being processed; retry shortly."),
                )
            time.sleep(0.05)


def _error(status: int, code: str, message, field: str | None = None) -> JsonResponse:
    return JsonResponse({"code": code, "field": field, "message": str(message)}, status=status)


class DomainErrorMiddleware:
    """A domain error no web view caught becomes the page it means, never a 500 (C8).

    Views that can show the error beside the form catch it themselves (`attach_errors`),
    which keeps what was typed; this is the one mapping for the rest: NotFound → the 404
    page, Forbidden → the 403 page, anything else (a conflict, a refused value) → the
    message on the page the user came from (same site only), or a 400 page without one.
    The API has its own mapping to JSON (guanxi.api).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception):
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.http import Http404, HttpResponseRedirect
        from django.utils.http import url_has_allowed_host_and_scheme
        from django.views.defaults import bad_request, page_not_found, permission_denied

        if not isinstance(exc, DomainError) or request.path.startswith(API_PREFIX):
            return None
        if isinstance(exc, NotFound):
            return page_not_found(request, Http404(str(exc.message)))
        if isinstance(exc, Forbidden):
            return permission_denied(request, PermissionDenied(str(exc.message)))
        back = request.headers.get("Referer", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(back)
        response = bad_request(request, exc)
        response.status_code = exc.status if 400 <= exc.status < 500 else 400
        return response


class DatabaseBusyMiddleware:
    """A page whose save found the database locked past the busy timeout says so (a 503 the
    user can retry, with what they typed still in the browser's back history), not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception):
        if request.path.startswith(API_PREFIX) or not database_busy(exc):
            return None
        response = render(request, "503.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
