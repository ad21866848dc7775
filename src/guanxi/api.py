"""The JSON API at /api/v1/: token auth for scripts, session auth (with CSRF) for the browser.

Every handler calls the same services and selectors as the web UI. Errors are JSON with a
stable `code`, a `message` and the offending `field`.
"""

from django.db import DataError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from guanxi.core.api import router as core_router
from guanxi.core.errors import RETRY_AFTER_SECONDS, DomainError, database_busy
from guanxi.core.openapi import GuanxiAPI
from guanxi.core.services import token_authenticate
from guanxi.core.validation import ValidatingParser
from guanxi.customers.api import router as customers_router
from guanxi.insights.api import router as insights_router
from guanxi.interactions.api import router as interactions_router
from guanxi.loyalty.api import router as loyalty_router
from guanxi.reception.api import router as reception_router
from guanxi.sales.api import router as sales_router
from guanxi.service.api import router as service_router
from guanxi.transfer.api import imports_router
from guanxi.transfer.api import router as transfer_router


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = GuanxiAPI(
    title="Guanxi API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), django_auth],
    docs_url="/docs",
    parser=ValidatingParser(),
)
api.add_router("/customers", customers_router, tags=["customers"])
api.add_router("", core_router, tags=["account"])
api.add_router("", interactions_router, tags=["interactions"])
api.add_router("/reception", reception_router, tags=["reception"])
api.add_router("/sales", sales_router, tags=["sales"])
api.add_router("/service", service_router, tags=["service"])
api.add_router("/loyalty", loyalty_router, tags=["loyalty"])
api.add_router("/insights", insights_router, tags=["insights"])
api.add_router("/customers", transfer_router, tags=["import and export"])
api.add_router("/imports", imports_router, tags=["import and export"])


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    errors = []
    for err in exc.errors:
        loc = [
            str(part)
            for part in err.get("loc", [])
            if part not in ("body", "payload", "query", "path")
        ]
        if len(loc) > 1 and loc[0] in ("file", "form"):  # multipart: ["file", "<name>"]
            loc = loc[1:]
        code = (
            "unknown_field" if err.get("type") == "extra_forbidden" else err.get("type", "invalid")
        )
        errors.append({"field": ".".join(loc) or None, "code": code, "message": err.get("msg", "")})
    first = (
        errors[0] if errors else {"field": None, "code": "invalid", "message": _("Invalid input")}
    )
    return api.create_response(request, {**first, "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request,
        {"code": "unauthenticated", "message": _("Authentication required."), "field": None},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, DomainError):  # core.validation refused the body
        return domain_error(request, exc.__cause__)
    code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 429: "throttled"}.get(
        exc.status_code, "error"
    )
    return api.create_response(
        request, {"code": code, "message": exc.message, "field": None}, status=exc.status_code
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(
        request, {"code": "not_found", "message": _("Not found."), "field": None}, status=404
    )


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request, exc):
    """Last line of defence: a value the database cannot hold is the client's error, not a 500.

    core.validation refuses such values first, with the field named; this catches the rest.
    """
    return api.create_response(
        request,
        {"code": "out_of_range", "message": _("A value is out of range."), "field": None},
        status=422,
    )


@api.exception_handler(OperationalError)
def database_is_busy(request, exc: OperationalError):
    """Others held the write lock past the busy timeout: a documented 503 the client retries
    (nothing was saved: the transaction rolled back). Any other database failure stays a 500."""
    if not database_busy(exc):
        raise exc
    response = api.create_response(
        request,
        {
            "code": "busy",
            "message": _("The database is busy. Nothing was saved; try again in a moment."),
            "field": None,
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
